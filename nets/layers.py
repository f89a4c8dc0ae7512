"""Factorised (split) layers of Algorithm 1 steps 10-12 (paper 000) and their matrix views.

A weight layer is seen as a matrix in torch's orientation, ``out x in``:

* ``nn.Linear``: its ``weight`` (out_features x in_features);
* ``nn.Conv2d`` with weight ``m x n x p x q``: the ``m x (n p q)`` reshape of Section 3.2.2.

The paper writes W_l as N x M with N the number of *input* features (so ``X = W^T W / N``); that
matrix is the transpose of the one here. Singular values do not depend on the orientation; the
MP normalisation (divide by the number of input features) is handled in ``nets.algorithms``.

Splitting a layer with truncated SVD ``W' = U S' V^T`` (rank r) gives two layers with no
activation between them (Algorithm 1 step 10; paper 001 Section 4.2 step 10):

* ``first``  = ``sqrt(S') V^T`` (r x in), no bias;
* ``second`` = ``U sqrt(S')``  (out x r), carrying the original bias,

so ``second(first(x)) = W' x + b``. For convolutions ``first`` is a conv with r output channels
and the original kernel, stride, padding and dilation, and ``second`` a 1x1 conv (r -> m); the
composition is the convolution with kernel ``W'`` reshaped back to ``m x n x p x q``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

# The weight layers every part of nets/ acts on (sparsification, paper 004's baselines, the (E.7)
# regularisation, Algorithm 1): one definition, ``weight_layers`` below.
PRUNABLE_TYPES = (nn.Linear, nn.Conv2d)


def _check_conv_supported(conv: nn.Conv2d) -> None:
    if conv.groups != 1:
        raise ValueError(f"grouped convolutions (groups={conv.groups}) have no single m x (n p q) "
                         "matrix (Section 3.2.2); MP pruning supports groups=1 only")
    if conv.padding_mode != "zeros":
        # The 1x1 second factor needs no padding, the first keeps the mode: still exact, but we
        # have not tested other modes, so refuse rather than guess.
        raise ValueError(f"padding_mode={conv.padding_mode!r} is not supported; use 'zeros'")


def weight_matrix(layer: nn.Module) -> torch.Tensor:
    """The layer's weight as an ``out x in`` matrix (detached). Linear: the weight; Conv2d: the
    ``m x (n p q)`` reshape (Section 3.2.2); factorised layers: the product ``second @ first``."""
    if isinstance(layer, (FactorizedLinear, FactorizedConv2d)):
        return layer.product_matrix()
    if isinstance(layer, nn.Linear):
        return layer.weight.detach()
    if isinstance(layer, nn.Conv2d):
        _check_conv_supported(layer)
        w = layer.weight.detach()
        return w.reshape(w.shape[0], -1)
    raise ValueError(f"{type(layer).__name__} is not a Linear/Conv2d (or factorised) layer")


def dense_weight_count(n_out: int, n_in: int) -> int:
    """Weights of an unfactorised ``n_out x n_in`` matrix (bias excluded)."""
    return n_out * n_in


def factorized_weight_count(n_out: int, n_in: int, rank: int) -> int:
    """Weights of the two factors of a rank-``rank`` split: r (n_in + n_out) (bias excluded)."""
    return rank * (n_in + n_out)


def split_saves_parameters(n_out: int, n_in: int, rank: int) -> bool:
    """Algorithm 1 step 11: the factors have fewer parameters than W', i.e. r (n + m) < n m.
    Bias counts are equal on both sides (one bias vector of length n_out), so weights decide."""
    return factorized_weight_count(n_out, n_in, rank) < dense_weight_count(n_out, n_in)


def max_saving_rank(n_out: int, n_in: int) -> int:
    """Largest r with r (n + m) < n m."""
    return math.ceil(n_out * n_in / (n_out + n_in)) - 1


class _Factorized(nn.Module):
    """Two factors with no activation between: ``second(first(x))``; the bias sits on ``second``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))

    def product_matrix(self) -> torch.Tensor:
        # (out x r) times (r x in); for convs the r x (n p q) reshape of Section 3.2.2 times the
        # 1x1 conv.  weight_matrix recurses, so factors split again (paper 001's repeated
        # splitting) work too.
        return weight_matrix(self.second) @ weight_matrix(self.first)

    @property
    def bias(self):
        return self.second.bias


class FactorizedLinear(_Factorized):
    """``second(first(x))`` with ``first: in -> rank`` (no bias) and ``second: rank -> out``."""

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        if rank < 0:
            raise ValueError(f"rank must be >= 0, got {rank}")
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.first = nn.Linear(in_features, rank, bias=False, device=device, dtype=dtype)
        self.second = nn.Linear(rank, out_features, bias=bias, device=device, dtype=dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, rank={self.rank}"


class FactorizedConv2d(_Factorized):
    """A conv ``in -> rank`` with the original kernel/stride/padding/dilation (no bias) followed
    by a 1x1 conv ``rank -> out`` with the bias (Section 3.2.2 reshape, Algorithm 1 step 10)."""

    def __init__(self, template: nn.Conv2d, rank: int):
        super().__init__()
        _check_conv_supported(template)
        if rank < 0:
            raise ValueError(f"rank must be >= 0, got {rank}")
        w = template.weight
        self.in_channels, self.out_channels, self.rank = template.in_channels, template.out_channels, rank
        self.kernel_size = template.kernel_size
        self.first = nn.Conv2d(template.in_channels, rank, template.kernel_size, stride=template.stride,
                               padding=template.padding, dilation=template.dilation, bias=False,
                               device=w.device, dtype=w.dtype)
        self.second = nn.Conv2d(rank, template.out_channels, 1, bias=template.bias is not None,
                                device=w.device, dtype=w.dtype)
        # Kept so that recombine() can rebuild the original convolution.
        self._conv_kwargs = dict(stride=template.stride, padding=template.padding,
                                 dilation=template.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"rank={self.rank}")


FACTORIZED_TYPES = (FactorizedLinear, FactorizedConv2d)


def weight_layers(model: nn.Module, *, factorized_as_unit: bool = False) -> list[tuple[str, nn.Module]]:
    """(name, module) of every weight layer, in registration order: the one definition of
    "the Linear/Conv2d layers" in nets/.

    Default: every ``nn.Linear`` / ``nn.Conv2d`` module, the two factors of a split layer included
    (what sparsification, paper 004's baselines and the (E.7) penalty act on; an attention block's
    ``out_proj`` is a Linear and is included). With ``factorized_as_unit`` a factorised layer is one
    entry and its factors are not listed (the layers Algorithm 1 visits)."""
    out, skip = [], []
    for name, module in model.named_modules():
        if any(name.startswith(p) for p in skip):
            continue
        if factorized_as_unit and isinstance(module, FACTORIZED_TYPES):
            out.append((name, module))
            skip.append(name + ".")
        elif isinstance(module, PRUNABLE_TYPES):
            out.append((name, module))
    return out


def eligible_weights(model: nn.Module, *, attention: bool = True,
                     embeddings: bool = False) -> list[tuple[str, str]]:
    """(module name, tensor name) of every weight matrix MP pruning can act on (``nets.prune``):
    the ``weight`` of each Linear and Conv2d (``groups=1``, zero padding: the m x (n p q) matrix of
    Section 3.2.2 exists), factors of split layers included; with ``attention`` the packed
    ``in_proj_weight`` of each ``nn.MultiheadAttention`` (or its separate ``q/k/v_proj_weight``;
    ``out_proj`` is a Linear, listed as such); with ``embeddings`` the table of each
    ``nn.Embedding`` (opt-in: a row lookup, MP applies when the table was initialised iid)."""
    out = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            if module.groups == 1 and module.padding_mode == "zeros":
                out.append((name, "weight"))
        elif isinstance(module, nn.Linear):
            out.append((name, "weight"))
        elif attention and isinstance(module, nn.MultiheadAttention):
            if module._qkv_same_embed_dim:
                out.append((name, "in_proj_weight"))
            else:
                out.extend((name, t) for t in ("q_proj_weight", "k_proj_weight", "v_proj_weight"))
        elif embeddings and isinstance(module, nn.Embedding):
            out.append((name, "weight"))
    return out


def count_weight_parameters(layer: nn.Module) -> int:
    """Trainable weight entries of a (possibly factorised) layer, bias excluded."""
    if isinstance(layer, FACTORIZED_TYPES):
        return count_weight_parameters(layer.first) + count_weight_parameters(layer.second)
    return layer.weight.numel()


def count_parameters(module: nn.Module) -> int:
    """All trainable parameters (torch's count: weights + biases + BatchNorm affine)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _dense_like(layer: nn.Module, matrix: torch.Tensor) -> nn.Module:
    """A fresh Linear/Conv2d with the given ``out x in`` matrix as weight and the layer's bias."""
    bias = layer.bias
    if isinstance(layer, (nn.Linear, FactorizedLinear)):
        new = nn.Linear(layer.in_features, layer.out_features, bias=bias is not None,
                        device=matrix.device, dtype=matrix.dtype)
        shape = (layer.out_features, layer.in_features)
    elif isinstance(layer, nn.Conv2d):
        new = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                        padding=layer.padding, dilation=layer.dilation, bias=bias is not None,
                        device=matrix.device, dtype=matrix.dtype)
        shape = tuple(layer.weight.shape)
    elif isinstance(layer, FactorizedConv2d):
        new = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                        bias=bias is not None, device=matrix.device, dtype=matrix.dtype,
                        **layer._conv_kwargs)
        shape = tuple(new.weight.shape)
    else:
        raise ValueError(f"{type(layer).__name__} is not a Linear/Conv2d (or factorised) layer")
    with torch.no_grad():
        new.weight.copy_(matrix.reshape(shape))
        if bias is not None:
            new.bias.copy_(bias.detach())
    return new


def two_factor_layer(layer: nn.Module, left: torch.Tensor, right: torch.Tensor) -> nn.Module:
    """Split ``layer`` into ``second(first(.))`` with ``second.weight = left`` (out x r) and
    ``first.weight = right`` (r x in, reshaped to a conv kernel for Conv2d); bias on ``second``."""
    if left.ndim != 2 or right.ndim != 2 or left.shape[1] != right.shape[0]:
        raise ValueError(f"factor shapes {tuple(left.shape)} and {tuple(right.shape)} do not chain")
    rank = left.shape[1]
    dtype = layer.weight.dtype if hasattr(layer, "weight") else left.dtype
    if isinstance(layer, nn.Linear):
        if left.shape[0] != layer.out_features or right.shape[1] != layer.in_features:
            raise ValueError("factor shapes do not match the Linear layer")
        new = FactorizedLinear(layer.in_features, layer.out_features, rank,
                               bias=layer.bias is not None, device=left.device, dtype=dtype)
        first_shape, second_shape = (rank, layer.in_features), (layer.out_features, rank)
    elif isinstance(layer, nn.Conv2d):
        n_in = layer.weight[0].numel()
        if left.shape[0] != layer.out_channels or right.shape[1] != n_in:
            raise ValueError("factor shapes do not match the m x (n p q) reshape of the Conv2d")
        new = FactorizedConv2d(layer, rank).to(left.device)
        first_shape = (rank, layer.in_channels, *layer.kernel_size)
        second_shape = (layer.out_channels, rank, 1, 1)
    else:
        raise ValueError(f"cannot factorize {type(layer).__name__}; expected Linear or Conv2d")
    with torch.no_grad():
        new.first.weight.copy_(right.reshape(first_shape).to(dtype))
        new.second.weight.copy_(left.reshape(second_shape).to(dtype))
        if layer.bias is not None:
            new.second.bias.copy_(layer.bias.detach())
    return new


def recombined(layer: nn.Module) -> nn.Module:
    """The dense Linear/Conv2d equal to a factorised layer (W = A B, Algorithm 1 step 23)."""
    if not isinstance(layer, (FactorizedLinear, FactorizedConv2d)):
        raise ValueError(f"{type(layer).__name__} is not a factorised layer")
    return _dense_like(layer, layer.product_matrix())


def set_dense_weight(layer: nn.Module, matrix: torch.Tensor) -> None:
    """Write an ``out x in`` matrix into a Linear/Conv2d in place (keeps the Parameter object, so
    an optimizer that holds it keeps working; Algorithm 1 step 14)."""
    with torch.no_grad():
        layer.weight.copy_(matrix.reshape(layer.weight.shape).to(layer.weight.dtype))


class Abs(nn.Module):
    """Absolute-value activation |x| (paper 000 allows any activation; |x| keeps W x's sign-free norm)."""

    def forward(self, x):
        return x.abs()
