"""One optimisation step of any method (its noise draw, forwards, loss, backward, Adam), run one of three
ways (`step` train option):

- eager: PyTorch as written; the reference path.
- compile: the model's forward and backward through torch.compile (fused kernels; the method's noise
  draw and Adam stay eager). Same step, floating-point sums in another order: same numbers up to rounding.
- graph: the whole step captured once in a CUDA graph and replayed, one launch per step instead of
  hundreds (at batch 128 the GPU otherwise waits for the Python that launches its kernels). CUDA only.
  Adam becomes capturable (its step count and bias corrections on the device: the same values up to
  rounding). The first WARMUP full batches run eagerly (optimizer state, cuDNN and cuBLAS set-up), then the
  step is captured with the batch in static buffers; the noise generator is registered with the graph,
  so a replay draws what an eager step would and the generator's state (checkpoints) stays exact. A
  batch of another shape (the epoch's last, partial one) runs eagerly, and a new learning rate (the
  scheduler, once an epoch) is captured again.
"""

import torch

from .config import check_step_device
from .device import autocast

WARMUP = 3  # eager full-size steps before the capture


def make_capturable(optimizer: torch.optim.Optimizer) -> None:
    """Adam with its step counts on the device, so that a graph can hold its update."""
    for group in optimizer.param_groups:
        group["capturable"] = True
    for param, state in optimizer.state.items():
        if "step" in state:
            state["step"] = state["step"].to(param.device, torch.float32)


class TrainStep:
    """`step(x, y, generator) -> (loss, extras)`: one optimisation step of `method` on the batch."""

    def __init__(self, kind: str, model, method, optimizer, device: torch.device, precision: str):
        check_step_device(kind, device.type)
        self.kind, self.method, self.optimizer, self.device, self.precision = kind, method, optimizer, device, precision
        self.model = torch.compile(model) if kind == "compile" else model
        if kind == "graph":
            make_capturable(optimizer)
            self.stream, self.pool = torch.cuda.Stream(device), torch.cuda.graph_pool_handle()
            self.graph, self.shape, self.warm, self.lrs = None, None, 0, None

    def __call__(self, x, y, generator):
        return self.replayed(x, y, generator) if self.kind == "graph" else self.eager(x, y, generator)

    def eager(self, x, y, generator):
        # in a graph, autocast must not cache casts: a cached cast would outlive the capture
        cast = (
            torch.autocast("cuda", torch.bfloat16, cache_enabled=False)
            if self.kind == "graph" and self.precision == "bf16"
            else autocast(self.device, self.precision)
        )
        with cast:
            loss, extras = self.method.loss(self.model, x, y, generator)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss, extras

    def replayed(self, x, y, generator):
        if self.shape is None or len(y) > self.shape[0]:  # the largest batch is the one to capture
            self.drop()
            self.shape, self.warm = x.shape, 0
        if x.shape != self.shape:
            return self.eager(x, y, generator)  # the epoch's last, partial batch
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.graph is None or lrs != self.lrs:
            if self.warm < WARMUP:
                self.warm += 1
                return self.on_side_stream(x, y, generator)
            self.capture(x, y, generator)
            self.lrs = lrs
        self.static_x.copy_(x)
        self.static_y.copy_(y)
        self.graph.replay()
        return self.static_loss, self.static_extras

    def on_side_stream(self, x, y, generator):
        """Warm-up steps run on the stream the capture runs on (what torch.cuda.graph asks for)."""
        here = torch.cuda.current_stream(self.device)
        self.stream.wait_stream(here)
        x.record_stream(self.stream)
        y.record_stream(self.stream)
        with torch.cuda.stream(self.stream):
            out = self.eager(x, y, generator)
        here.wait_stream(self.stream)
        return out

    def capture(self, x, y, generator) -> None:
        self.drop()
        self.static_x, self.static_y = x.clone(), y.clone()
        graph = torch.cuda.CUDAGraph()
        graph.register_generator_state(generator)
        self.optimizer.zero_grad(set_to_none=True)  # the captured backward allocates the gradients
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        # thread_local: a DataLoader's pin-memory thread may allocate while this thread captures
        with torch.cuda.graph(graph, pool=self.pool, stream=self.stream, capture_error_mode="thread_local"):
            self.static_loss, self.static_extras = self.eager(self.static_x, self.static_y, generator)
        self.graph = graph

    def drop(self) -> None:
        """Free the captured step; its memory goes back to the pool the next capture draws from."""
        if self.graph is not None:
            self.graph.reset()
        self.graph = None
