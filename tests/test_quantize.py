"""int8 weights for decoding: close to the float layer, exact where the caller asks for the prompt weights, modules swapped."""

import pytest
import torch

from chat.llm.quantize import Int8WeightLinear, prompt_then_decode, prompt_weights, quantize, quantize_weights


def test_int8_is_close_to_the_float_layer_and_the_prompt_weights_are_exact():
    torch.manual_seed(0)
    model = quantize_weights(torch.nn.Sequential(torch.nn.Linear(64, 48, bias=True)))
    float_layer = torch.nn.Linear(64, 48, bias=True)
    float_layer.load_state_dict({"weight": model[0].weight, "bias": model[0].bias})
    for rows in (1, 3, 40):  # the weights used never depend on how many rows come in
        x = torch.randn(1, rows, 64)
        expected = float_layer(x)
        error = (model(x) - expected).abs().max() / expected.abs().max()
        assert 0 < error < 0.02  # quantized, not a copy, and within a couple of percent
        with prompt_weights(model):
            assert torch.equal(model(x), expected)


def test_prompt_then_decode_uses_the_float_weights_for_the_first_pass_only():
    torch.manual_seed(0)
    model = quantize_weights(torch.nn.Sequential(torch.nn.Linear(16, 8)))
    x = torch.randn(1, 1, 16)
    float_out = torch.nn.functional.linear(x, model[0].weight, model[0].bias)
    with prompt_then_decode(model):
        first, second = model(x), model(x)
    assert torch.equal(first, float_out) and not torch.equal(second, float_out)
    assert not torch.equal(model(x), float_out)  # back to int8 after the block


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
