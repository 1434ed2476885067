"""Fused recurrent kernels: arrays in, arrays out. Imports numpy and numba only, never the engine.

Installed as ``tinygrad_seq.kernels``. Nothing is compiled at import time: every @njit uses
``cache=True`` and compiles lazily on first call; the CUDA modules (``*_cuda.py``) are imported
only when the "cuda" device is used.

The CPU file and the CUDA file of one cell export the same names with the same signatures
(``lstm_cpu.py`` / ``lstm_cuda.py`` ...). Shapes (time-major, as haste documents them):

    x       [T, B, I]    input sequence
    h0, c0  [B, H]       initial states
    w_ih    [G*H, I]     input weights, PyTorch gate order (LSTM G=4: i,f,g,o; GRU G=3: r,z,n; RNN G=1)
    w_hh    [G*H, H]     recurrent weights
    b_ih    [G*H]        input bias      (zeros when the layer has bias=False)
    b_hh    [G*H]        recurrent bias
    lengths [B] int64    valid steps per sequence, each in 1..T; steps t >= lengths[b] leave the
                         state unchanged and write zero output (pack_padded_sequence semantics)
    reverse bool         run t = T-1 .. 0 (the backward direction of a bidirectional layer); with
                         lengths, sequence b starts at t = lengths[b]-1 from h0
    y       [T, B, H]    outputs (zero past each length)
    saved   tuple        activations the backward kernel needs (layout private to the kernel pair)

    rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu) -> y, h_n, saved
    rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, lengths, reverse, relu, saved)
        -> dx, dh0, dw_ih, dw_hh, db_ih, db_hh
    lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, backward_follows=False)
        -> y, h_n, c_n, saved   (backward_follows: a backward will run; the CPU driver may compile
        it aside meanwhile, kernels/background_compile.py)
    lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, lengths, reverse, saved)
        -> dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh
    gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, backward_follows=False) -> y, h_n, saved
    gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, lengths, reverse, saved)
        -> dx, dh0, dw_ih, dw_hh, db_ih, db_hh

All arrays share one float dtype (float32 or float64); gradients come back in that dtype.

CPU plumbing: every machine-dependent setting and the per-shape-class calibration live in
``tuning.py`` (``python -m tinygrad_seq.tune``); ``compile_notice.py`` says on stderr when a call
is about to compile; ``cache_load.py`` is the ``njit`` every CPU kernel is compiled with (its
cache entries load without Numba's registry refresh); ``numba_threads.py`` reads Numba's thread
count without its locks; ``blas_cpu.py`` / ``steps_cpu.py`` / ``activations_cpu.py`` hold the threads,
GEMMs, time-loop plumbing and scalar math the three cells share. ``permutation_cpu.py`` applies
torch's randperm swaps for long permutations (the draws are tinygrad_seq/torch_stream.py's).
``stream_words_cpu.py`` runs torch's Mersenne Twister stream on numpy's generator state in place
(uniforms, normals with their cached second sample) for ``sampler_draws_cpu.py``: torch's gamma,
Dirichlet, Poisson and binomial samplers draw for draw. ``libm_cpu.py`` applies the C library's
log / log1p / cos / sin / tan to long float64 arrays (torch's float64 random transforms).
``ctc_cpu.py`` (with ``ctc_log_cpu.py`` for sequences holding inf / nan) is F.ctc_loss's
forward-backward recursion.
"""
