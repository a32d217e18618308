"""Seeded random weights shared by the fixture scripts: every state-dict entry (buffers, frozen
tables and zero-initialised gates included) drawn in state-dict order from torch.randn with a CPU
generator seeded `seed`, times `std`. dit4j's tests draw the same stream through libtorch and
compare each tensor's sum with the one returned here before comparing any output."""


def seeded_weights(model, torch, seed, std):
    """Overwrites the model's state in place; returns {key: float64 sum of the drawn tensor}."""
    g = torch.Generator().manual_seed(seed)
    sums = {}
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            value = torch.randn(tuple(tensor.shape), generator=g, dtype=torch.float32) * std
            tensor.copy_(value)
            sums[key] = float(value.double().sum())
    return sums
