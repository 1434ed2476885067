"""torch.nn.functional's spatial transformer pair, 2-D: affine_grid (theta [N, 2, 3] -> sampling
grid [N, H, W, 2] of (x, y) in [-1, 1]) and grid_sample (input [N, C, H_in, W_in] read at a grid
[N, H, W, 2] -> [N, C, H, W]; bilinear or nearest; padding zeros, border or reflection;
align_corners), composed from Tensor ops so gradients reach input, grid and theta.

Source coordinates follow torch's grid_sampler: (x + 1) / 2 * (W_in - 1) with align_corners,
((x + 1) W_in - 1) / 2 without; border clamps them to [0, W_in - 1], reflection reflects them
about the edges (the pixel centres with align_corners, the image borders without) and clamps;
a clamped coordinate has zero gradient, the borders themselves counted as clamped (torch's
clip_coordinates_set_grad). Re-exported by tinygrad_seq.functional."""
import warnings

import numpy as np

from tinygrad_seq.errors import DTypeMismatch, ShapeMismatch
from tinygrad_seq.memory_formats import row_major_result
from tinygrad_seq.tensor import Tensor

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _base_coordinates(steps, align_corners, dtype):
    """torch's linspace_from_neg_one: `steps` points in [-1, 1] (pixel centres without
    align_corners), computed in theta's dtype step by step as torch's (a 1-ulp difference moves an
    identity transform's sample points across bilinear sampling's kinks)."""
    from tinygrad_seq.creation import _torch_linspace
    if steps <= 1:
        return np.zeros(max(steps, 0), dtype)
    points = _torch_linspace(-1.0, 1.0, steps, dtype)
    if align_corners:
        return points
    return (points * dtype.type(steps - 1)) / dtype.type(steps)


def affine_grid(theta, size, align_corners=None):
    """grid[n, h, w] = theta[n] @ (x_w, y_h, 1): theta [N, 2, 3], size (N, C, H, W) -> [N, H, W, 2]."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if theta.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 5:
        raise NotImplementedError("affine_grid: 3-D (5-element size) grids are not supported by tinygrad_seq; "
                                  "only 2-D, size (N, C, H, W)")
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                         f"Got {tuple(theta.shape)}.")
    N, _, H, W = size
    if align_corners and min(H, W) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != N:
        raise ShapeMismatch(f"affine_grid: theta holds {theta.shape[0]} matrices, size asks for a batch of {N}")
    base = np.empty((H, W, 3), theta.dtype)
    base[..., 0] = _base_coordinates(W, align_corners, theta.dtype)[None, :]
    base[..., 1] = _base_coordinates(H, align_corners, theta.dtype)[:, None]
    base[..., 2] = 1.0
    base = Tensor(base.reshape(1, H * W, 3), device=theta.device)
    return (base @ theta.transpose(1, 2)).reshape(N, H, W, 2)


def _clip(coord, size):
    """coord clamped to [0, size - 1]; gradient 1 strictly inside, 0 elsewhere (torch's). A
    non-finite coordinate (a flow that blew up) lands where torch's clip_coordinates puts it:
    nan and -inf at 0, +inf at size - 1 (reflection's non-finite results are nan: 0)."""
    c = coord.numpy()
    inside = (c > 0) & (c < size - 1)
    edge = np.clip(np.nan_to_num(c, nan=0.0, posinf=size - 1, neginf=0.0), 0, size - 1).astype(c.dtype)
    return coord.where(Tensor(inside, device=coord.device), Tensor(edge, device=coord.device))


def _reflect(coord, twice_low, twice_high):
    """coord reflected about low and high until it lies between them (torch's reflect_coordinates)."""
    c = coord.numpy()
    if twice_low == twice_high:
        return coord * 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    sign = np.where(c - low < 0, -1.0, 1.0)
    distance = np.abs(c - low)
    flips = np.floor(distance / span)
    even = flips % 2 == 0
    # distance - flips * span is fmod(distance, span), with distance's gradient
    out_sign = np.where(even, sign, -sign)
    offset = np.where(even, low - flips * span, span + low + flips * span) - out_sign * low
    # even: (c - low) sign - flips span + low; odd: span - ((c - low) sign - flips span) + low
    return coord * Tensor(out_sign.astype(c.dtype), device=coord.device) + \
        Tensor(offset.astype(c.dtype), device=coord.device)


def _source_coordinate(coord, size, padding_mode, align_corners):
    coord = (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size)
    return coord


@row_major_result
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """out[n, :, h, w] = input[n] read at grid[n, h, w] = (x, y) in [-1, 1] (x across W_in, y
    across H_in): input [N, C, H_in, W_in], grid [N, H, W, 2] -> [N, C, H, W]."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not supported by tinygrad_seq; use 'bilinear' "
                                  "or 'nearest'")
    if input.ndim == 5 and grid.ndim == 5:
        raise NotImplementedError("grid_sample: 3-D (5-D input) sampling is not supported by tinygrad_seq")
    if input.ndim != 4 or grid.ndim != 4:
        raise ShapeMismatch(f"grid_sampler(): expected 4D input and grid with same number of dimensions, but got "
                            f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise ShapeMismatch(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                            f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != 2:
        raise ShapeMismatch(f"grid_sampler(): expected grid to have size 2 in last dimension, but got grid with "
                            f"sizes {list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise DTypeMismatch(f"grid_sampler(): expected input and grid to have the same dtype, but input has "
                            f"{input.dtype} and grid has {grid.dtype}")
    with np.errstate(invalid="ignore", over="ignore"):   # non-finite grids: torch's values, no warnings
        return _sampled(input, grid, mode, padding_mode, align_corners)


def _sampled(input, grid, mode, padding_mode, align_corners):
    N, C, H_in, W_in = input.shape
    ix = _source_coordinate(grid[..., 0], W_in, padding_mode, align_corners)   # [N, H, W]
    iy = _source_coordinate(grid[..., 1], H_in, padding_mode, align_corners)
    pixels = input.permute(0, 2, 3, 1)                                          # [N, H_in, W_in, C]
    batch = np.arange(N).reshape(N, 1, 1)

    def read(x_idx, y_idx):
        """pixels at integer (x, y) [N, H, W], zero outside the image: ([N, H, W, C], in-bounds mask)."""
        inside = (x_idx >= 0) & (x_idx < W_in) & (y_idx >= 0) & (y_idx < H_in)
        values = pixels[batch, np.clip(y_idx, 0, H_in - 1), np.clip(x_idx, 0, W_in - 1)]
        return values, inside

    if mode == "nearest":
        values, inside = read(np.rint(ix.numpy()).astype(np.int64), np.rint(iy.numpy()).astype(np.int64))
        out = values * Tensor(inside[..., None].astype(input.dtype), device=input.device)
        if grid.requires_grad:   # torch's: the grid gets a zero gradient
            out = out + (grid.sum() * 0.0)
    else:
        x0, y0 = np.floor(ix.numpy()).astype(np.int64), np.floor(iy.numpy()).astype(np.int64)
        wx1 = ix - Tensor(x0.astype(input.dtype), device=input.device)   # weight of the right column
        wy1 = iy - Tensor(y0.astype(input.dtype), device=input.device)
        out = None
        for dx, wx in ((0, 1.0 - wx1), (1, wx1)):
            for dy, wy in ((0, 1.0 - wy1), (1, wy1)):
                values, inside = read(x0 + dx, y0 + dy)
                weight = wx * wy * Tensor(inside.astype(input.dtype), device=input.device)
                term = values * weight.unsqueeze(-1)
                out = term if out is None else out + term
    return out.permute(0, 3, 1, 2)
