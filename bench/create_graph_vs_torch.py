"""Higher-order gradient workloads, tinygrad_seq beside torch in one process: a WGAN-GP critic
step, a MAML meta-step and an LSTM Hessian-vector product; blocks of calls alternating between
the two, best of 5 per block, best block of 3 (ms). Prints a markdown table row per workload:
| workload | torch ms | ours ms | torch/ours |.

    python bench/create_graph_vs_torch.py"""
import time

import torch, tinygrad_seq as ts
torch.set_num_threads(2)

def bench(fn, n=20, reps=5):
    fn()
    best = 1e9
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n): fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e3

def wgan(lib):
    lib.manual_seed(0)
    nn = lib.nn
    D = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
    opt = lib.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    real, fake = lib.randn(256, 2), lib.randn(256, 2)
    def step():
        opt.zero_grad()
        a = lib.rand(256, 1)
        x = (a * real + (1 - a) * fake).requires_grad_(True)
        d = D(x)
        g, = lib.autograd.grad(d, x, lib.ones_like(d), create_graph=True)
        loss = D(fake).mean() - D(real).mean() + 10 * ((g.norm(2, dim=1) - 1) ** 2).mean()
        loss.backward()
        opt.step()
    return step

def maml(lib):
    lib.manual_seed(0)
    F = lib.nn.functional
    ps = [lib.randn(40, 1) * 0.3, lib.zeros(40), lib.randn(40, 40) * 0.1, lib.zeros(40), lib.randn(1, 40) * 0.1, lib.zeros(1)]
    ps = [p.requires_grad_(True) for p in ps]
    opt = lib.optim.Adam(ps, lr=1e-3)
    xs, ys = lib.randn(5, 10, 1), lib.randn(5, 10, 1)
    def net(x, p):
        return F.linear(F.relu(F.linear(F.relu(F.linear(x, p[0], p[1])), p[2], p[3])), p[4], p[5])
    def step():
        opt.zero_grad()
        total = 0
        for t in range(5):
            loss = F.mse_loss(net(xs[t], ps), ys[t])
            gs = lib.autograd.grad(loss, ps, create_graph=True)
            fast = [p - 0.01 * g for p, g in zip(ps, gs)]
            total = total + F.mse_loss(net(xs[t], fast), ys[t])
        total.backward()
        opt.step()
    return step

def lstm_hvp(lib):
    lib.manual_seed(0)
    m = lib.nn.LSTM(16, 32)
    x = lib.randn(20, 4, 16)
    ps = list(m.parameters())
    vs = [lib.randn(*p.shape) for p in ps]
    def step():
        loss = m(x)[0].pow(2).mean()
        gs = lib.autograd.grad(loss, ps, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(gs, vs))
        lib.autograd.grad(dot, ps)
    return step

for name, make in [("WGAN-GP critic step (MLP 2-128-128-1, batch 256)", wgan), ("MAML meta-step (5 tasks x 10 shots, MLP 1-40-40-1)", maml),
                   ("Hessian-vector product, nn.LSTM(16, 32), T=20 B=4", lstm_hvp)]:
    fs = {lib.__name__: make(lib) for lib in (torch, ts)}
    res = {"torch": [], "tinygrad_seq": []}
    for r in range(3):
        for k in ("torch", "tinygrad_seq"):
            res[k].append(bench(fs[k], n=10 if "LSTM" in name else 20))
    t, o = min(res["torch"]), min(res["tinygrad_seq"])
    print(f"| {name} | {t:.2f} | {o:.2f} | {t / o:.2f} |")
