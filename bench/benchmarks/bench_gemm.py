"""asv: the whole-sequence GEMMs' two routes (kernels/blas_cpu.py gemm_route): numpy's BLAS and the
library's blocked panel GEMM (kernels/panel_cpu.py panel_gemm), on one thread, float32, for the
products a recurrent layer's call runs: an input projection [T*B, I] x [I, 4H] (a transposed
weight), dx [T*B, 4H] x [4H, I], and a weight gradient dG^T x [T*B, I] (a transposed left
operand); T*B = 800, I = H = 256. Which route the calibration picks on a machine follows from
these two columns."""
import numpy as np

from tinygrad_seq.kernels import blas_cpu


class GemmRoute:
    params = (["blas", "panels"], ["input projection", "dx", "weight gradient"])
    param_names = ["route", "product"]

    def setup(self, route, product):
        rng = np.random.default_rng(0)
        rows, n_in, gates = 800, 256, 1024
        x = rng.standard_normal((rows, n_in)).astype(np.float32)
        w = rng.standard_normal((gates, n_in)).astype(np.float32)
        dg = rng.standard_normal((rows, gates)).astype(np.float32)
        self.a, self.b = {"input projection": (x, w.T), "dx": (dg, w), "weight gradient": (dg.T, x)}[product]
        self.out = np.empty((self.a.shape[0], self.b.shape[1]), np.float32)
        self.route = route
        self.pin = blas_cpu.numpy_blas_one_thread()
        self.pin.__enter__()
        blas_cpu.gemm_into(self.a, self.b, self.out, route)   # compiles the panel GEMM outside the timing

    def teardown(self, route, product):
        self.pin.__exit__(None, None, None)

    def time_product(self, route, product):
        blas_cpu.gemm_into(self.a, self.b, self.out, self.route)
