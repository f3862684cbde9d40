"""int8 weights for decoding: close to the float layer one row at a time, exact on prompts, modules swapped."""

import pytest
import torch

from chat.quantize import PREFILL_ROWS, Int8WeightLinear, quantize, quantize_weights


def test_one_row_is_close_to_the_float_layer_and_a_prompt_is_exact():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 48, bias=True)
    layer = Int8WeightLinear(linear)
    row = torch.randn(1, 1, 64)
    expected = linear(row)
    error = (layer(row) - expected).abs().max() / expected.abs().max()
    assert 0 < error < 0.02  # quantized, not a copy, and within a couple of percent
    prompt = torch.randn(1, PREFILL_ROWS, 64)
    assert torch.equal(layer(prompt), linear(prompt))


def test_every_linear_is_swapped_and_tied_weights_stay_tied():
    model = torch.nn.Sequential(torch.nn.Embedding(10, 8), torch.nn.Linear(8, 10, bias=False))
    model[1].weight = model[0].weight
    quantize_weights(model)
    assert isinstance(model[1], Int8WeightLinear) and model[1].weight is model[0].weight
    assert model[1].weight_int8.dtype == torch.int8 and model[1].weight_int8.shape == (10, 8)


def test_modes():
    linear = torch.nn.Sequential(torch.nn.Linear(8, 8))
    assert quantize(linear, "none") is linear
    with pytest.raises(ValueError, match="quantize must be one of"):
        quantize(linear, "int4")
