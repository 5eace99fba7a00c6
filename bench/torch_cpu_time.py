"""CPU seconds per image of PyTorch on the reference workloads (supplement to shared/bench/torch_cpu_baseline.py).

Same model, batch and steps as the baseline script (torchvision resnet, fc -> 2 classes, AdamW, train unfrozen,
train frozen with BatchNorm + head trainable, inference), but it reports the process CPU time of each phase
(all threads) next to the wall time. On a machine shared with other jobs, wall-clock img/s depends on the load;
CPU seconds per image much less (run it with OMP_WAIT_POLICY=PASSIVE so that idle OpenMP threads do not spin).
Usage: python3.11 torch_cpu_time.py [arch] [batch] [steps]
"""
import os
import sys
import time

import torch
import torchvision

torch.set_num_threads(int(os.environ.get('THREADS', '2')))
arch = sys.argv[1] if len(sys.argv) > 1 else 'resnet34'
bs = int(sys.argv[2]) if len(sys.argv) > 2 else 16
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
m = getattr(torchvision.models, arch)(weights=None)
m.fc = torch.nn.Linear(m.fc.in_features, 2)
x = torch.randn(bs, 3, 224, 224)
y = torch.randint(0, 2, (bs,))
opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
lossf = torch.nn.CrossEntropyLoss()


def bench(fn, n):
    fn()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n, (time.process_time() - c) / n


def train_step():
    opt.zero_grad()
    loss = lossf(m(x), y)
    loss.backward()
    opt.step()


m.train()
w_train, c_train = bench(train_step, steps)
for n_, p in m.named_parameters():
    p.requires_grad = ('fc' in n_) or ('bn' in n_) or ('downsample.1' in n_)
w_frozen, c_frozen = bench(train_step, steps)
m.eval()
with torch.no_grad():
    w_inf, c_inf = bench(lambda: m(x), steps)
print(f"torch {torch.__version__} threads={torch.get_num_threads()} arch={arch} bs={bs}")
print(
    f"cpu_s_per_img train_unfrozen={c_train / bs:.4f} train_frozen={c_frozen / bs:.4f} infer={c_inf / bs:.4f} "
    f"wall_img_per_s train_unfrozen={bs / w_train:.2f} train_frozen={bs / w_frozen:.2f} infer={bs / w_inf:.2f}"
)
