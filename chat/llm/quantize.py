"""CPU speed-ups for the local LLM: int8 weights for decoding, and torch's int8 dynamic quantization.

Decoding one token is a chain of matrix-vector products whose cost is reading the weights.
`quantize_weights` stores each linear layer's weights once more in int8 with one scale per
output row and decodes through `torch._weight_int8pack_mm` (activations stay in floating point),
reading a quarter of the bytes; prompts keep the float32 weights, where matrix-matrix products
are fast already. Which weights a forward pass uses is said by the caller, never guessed from
the input's shape: `prompt_weights(model)` runs every pass on the float weights, and
`prompt_then_decode(model)` runs the first pass (the prompt) on them and every later one (one
new token each) on the int8 weights. So every prompt token is computed the same way whether it
is computed fresh, found in a kept KV cache, or computed one token at a time after one; a rule
by row count made a one-token prompt tail take the int8 path, and greedy output then depended on
what the cache held and on the CPU. Per-row weight-only int8 is close to lossless: the
shipped adapter writes the same tool calls with it. `quantize_dynamic` is torch's
`quantize_dynamic` (activations quantized too): faster prefill, but on SmolLM2-135M it breaks
the adapter's tool-call format, so it is only an option.

Measured on 2 CPU cores: decode 18 -> 31 tokens/s with `int8`; 16 of 16 held-out tool calls
stayed valid and identical (16/16 fp32; 0/16 per-tensor dynamic, 7/16 per-channel dynamic).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

MODES = ("none", "int8", "int8-dynamic")


class WeightSwitch:
    """Which weights the model's Int8WeightLinear layers use now; one switch is shared by all of a model's layers."""

    def __init__(self) -> None:
        self.use_float = False


class Int8WeightLinear(torch.nn.Module):
    """A linear layer that decodes with int8 weights (per-row scales), or with the float ones while its switch says so.

    Example: Int8WeightLinear(nn.Linear(576, 1536), WeightSwitch())(x) ~= the float layer's output, within ~1% per row
    """

    def __init__(self, linear: torch.nn.Linear, switch: WeightSwitch):
        super().__init__()
        self.switch = switch
        weight = linear.weight.detach().float()
        scales = weight.abs().amax(dim=1).clamp(min=1e-8) / 127
        self.register_buffer(
            "weight_int8", torch.round(weight / scales[:, None]).clamp(-128, 127).to(torch.int8).contiguous()
        )
        self.register_buffer("scales", scales.to(torch.bfloat16))
        self.weight = linear.weight  # shared, not copied: tied embeddings stay tied
        self.bias = linear.bias
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.switch.use_float:
            return torch.nn.functional.linear(x, self.weight, self.bias)
        rows = x.reshape(-1, self.in_features)
        # The CPU kernel is fast with bfloat16 activations; the output goes back to the model's dtype.
        out = torch._weight_int8pack_mm(rows.to(torch.bfloat16), self.weight_int8, self.scales).to(x.dtype)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*x.shape[:-1], self.out_features)


def quantize_weights(model: torch.nn.Module) -> torch.nn.Module:
    """Swap every nn.Linear (the output head too) for an Int8WeightLinear, in place; returns the model."""
    switch = WeightSwitch()
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, Int8WeightLinear(child, switch))
    model.weight_switch = switch
    return model


@contextmanager
def prompt_weights(model: torch.nn.Module) -> Iterator[None]:
    """Within: every forward pass of the model uses the float weights (prompt tokens). No-op for other modes."""
    switch = getattr(model, "weight_switch", None)
    if switch is None:
        yield
        return
    switch.use_float = True
    try:
        yield
    finally:
        switch.use_float = False


@contextmanager
def prompt_then_decode(model: torch.nn.Module) -> Iterator[None]:
    """Within: the model's first forward pass (the prompt's uncached tokens) uses the float weights, later ones int8.

    For `generate`, whose first pass computes the prompt and every later pass one new token per row.
    """
    switch = getattr(model, "weight_switch", None)
    if switch is None:
        yield
        return

    def after_first_pass(module, args, output):
        switch.use_float = False
        handle.remove()

    switch.use_float = True
    handle = model.register_forward_hook(after_first_pass)
    try:
        yield
    finally:
        handle.remove()
        switch.use_float = False


def quantize(model: torch.nn.Module, mode: str) -> torch.nn.Module:
    """The model in a CPU speed-up mode: 'none', 'int8' (weights only) or 'int8-dynamic' (torch's)."""
    if mode == "none":
        return model
    if mode == "int8":
        return quantize_weights(model)
    if mode == "int8-dynamic":
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    raise ValueError(f"quantize must be one of {', '.join(MODES)}, got {mode!r}")
