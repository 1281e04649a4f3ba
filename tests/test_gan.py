"""The GAN engine: one model family, the variants' losses and update rules, one training step on fit."""

import dataclasses
import io
import math

import pytest
import torch
from torch import nn

from dljournal.core.project import ProjectError
from dljournal.data import Split
from dljournal.gan import (
    ACGAN,
    DCGAN,
    VARIANTS,
    WGAN,
    WGAN_GP,
    Discriminator,
    GanConfig,
    Generator,
    dcgan_init,
    generate,
    get_variant,
    latent,
    to_uint8,
    train_gan,
)
from dljournal.gan.train import frozen
from dljournal.gan.variants import (
    bce_critic,
    bce_generator,
    clip_weights_,
    gradient_penalty,
    wasserstein_critic,
    wasserstein_generator,
)


def models(variant, width=8, z_dim=16, classes=10):
    k = classes if variant.conditional else 0
    g, d = Generator(z_dim, width, 3, k), Discriminator(width, 3, k, variant.critic_norm)
    g.apply(dcgan_init)
    d.apply(dcgan_init)
    return g, d


@pytest.mark.parametrize("key", sorted(VARIANTS))
def test_shapes_of_the_family(key):
    v = VARIANTS[key]
    g, d = models(v)
    z, y = latent(5, 16, g.num_classes)
    x = g(z, y)
    assert x.shape == (5, 3, 32, 32) and x.abs().max() <= 1
    score, logits = d(x)
    assert score.shape == (5,)
    assert (logits.shape == (5, 10)) if v.conditional else logits is None


def test_conditional_generator_needs_classes_and_uses_them():
    g, _ = models(ACGAN)
    z = torch.randn(2, 16)
    with pytest.raises(ValueError, match="classes"):
        g(z)
    g.eval()
    assert not torch.allclose(g(z, torch.tensor([0, 0])), g(z, torch.tensor([0, 1])))


def test_loss_pieces_closed_forms():
    zero = torch.zeros(4)
    assert bce_critic(zero, zero).item() == pytest.approx(2 * math.log(2))  # D = 1/2 everywhere
    assert bce_generator(zero).item() == pytest.approx(math.log(2))
    assert bce_critic(torch.full((3,), 30.0), torch.full((3,), -30.0)).item() == pytest.approx(0.0, abs=1e-12)
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    assert wasserstein_critic(real, fake).item() == -1.0  # E D(G(z)) − E D(x)
    assert wasserstein_generator(fake).item() == -1.0


class Linear(nn.Module):
    """D(x) = <w, x>: its input gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x.flatten(1) * self.w).sum(1), None


def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared():
    w = torch.full((3 * 4 * 4,), 0.5)  # ‖w‖ = 0.5 · √48
    critic = Linear(w)
    gp = gradient_penalty(critic, torch.randn(6, 3, 4, 4), torch.randn(6, 3, 4, 4))
    assert gp.item() == pytest.approx((0.5 * math.sqrt(48) - 1) ** 2, rel=1e-6)
    gp.backward()  # differentiable in the critic's weights (create_graph)
    assert critic.w.grad is not None and critic.w.grad.abs().sum() > 0


def test_clipping_bounds_every_parameter():
    _, d = models(WGAN)
    nn.init.normal_(d.source.weight, 0, 1)
    clip_weights_(d, 0.01)
    assert max(p.abs().max().item() for p in d.parameters()) <= 0.01


def test_variants_compose_their_pieces():
    torch.manual_seed(0)
    real, fake = torch.rand(8, 3, 32, 32) * 2 - 1, torch.rand(8, 3, 32, 32) * 2 - 1
    _, d = models(WGAN)
    loss, logs = WGAN.critic_loss(d, real, fake)
    assert loss.item() == pytest.approx(-logs["wasserstein"].item())  # no penalty: the loss is −W
    nn.init.normal_(d.source.weight, 0, 1)
    WGAN.after_critic_step(d)
    assert d.source.weight.abs().max() <= WGAN.clip
    _, d = models(DCGAN)
    nn.init.normal_(d.source.weight, 0, 1)
    DCGAN.after_critic_step(d)
    assert d.source.weight.abs().max() > 0.5  # DCGAN clips nothing
    _, d = models(WGAN_GP)
    assert isinstance(d.features[3], nn.GroupNorm)  # no batch statistics under a per-sample penalty
    torch.manual_seed(1)
    loss, logs = WGAN_GP.critic_loss(d, real, fake)
    assert loss.item() == pytest.approx(-logs["wasserstein"].item() + 10 * logs["gradient_penalty"].item(), rel=1e-5)
    _, d = models(ACGAN)
    y = torch.arange(8) % 10
    loss, logs = ACGAN.critic_loss(d, real, fake, y, y)
    adversarial = bce_critic(d(real)[0], d(fake)[0]).item()
    assert loss.item() == pytest.approx(logs["d_class_loss"].item() + adversarial, rel=1e-5)
    assert logs["d_class_loss"].item() == pytest.approx(2 * math.log(10), rel=0.05)  # an untrained head guesses


def test_get_variant():
    assert get_variant("wgan_gp") is WGAN_GP
    with pytest.raises(ProjectError, match="unknown GAN variant 'lsgan'"):
        get_variant("lsgan")


def data(n=96, value=0.6, classes=10):
    return Split(torch.full((n, 3, 32, 32), value), torch.arange(n) % classes)


@pytest.mark.parametrize("key,g_steps", [("dcgan", 6), ("wgan", 1), ("wgan_gp", 1), ("acgan", 6)])
def test_one_loop_counts_critic_and_generator_steps(key, g_steps):
    v = VARIANTS[key]
    torch.manual_seed(0)
    g, d = models(v)
    z, y = latent(4, 16, g.num_classes)
    # 96 images in batches of 16 = 6 critic steps per epoch (the incomplete batch of 8 below is dropped)
    run = train_gan(
        g, d, v, data(104), GanConfig(epochs=2, batch_size=16, z_dim=16, width=8, log_every=2), fixed_z=z, fixed_y=y
    )
    assert (run.d_steps, run.g_steps) == (12, 2 * g_steps)
    assert run.samples.shape == (2, 4, 3, 32, 32) and run.samples.dtype == torch.uint8
    e = run.history.epochs
    assert e["epoch"] == [1, 2] and len(e["d_loss"]) == len(e["g_loss"]) == 2
    assert ("wasserstein" in e) == v.wasserstein and ("class_acc_real" in e) == v.conditional
    s = run.history.steps
    assert len(s["step"]) == len(s["g_loss"]) == len(s["d_loss"])  # every window holds a generator step


def test_the_loop_is_reproducible_and_hooks_run_untimed():
    def once():
        torch.manual_seed(3)
        g, d = models(DCGAN)
        z, _ = latent(4, 16)
        return train_gan(
            g,
            d,
            DCGAN,
            data(),
            GanConfig(epochs=2, batch_size=16, z_dim=16, width=8),
            fixed_z=z,
            on_epoch=lambda epoch, gen: {"hook": float(epoch)},
        )

    a, b = once(), once()
    assert torch.equal(a.samples, b.samples)
    assert a.history.epochs["hook"] == [1.0, 2.0]


def test_the_runners_observers_watch_a_gan(tmp_path):
    """TensorBoard comes from the observers passed in (no writer of the GAN's own): epoch and window
    scalars, and the fixed noise's images after every epoch."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from dljournal.observe import Progress, TensorBoard

    torch.manual_seed(0)
    g, d = models(WGAN)
    z, _ = latent(4, 16)
    lines = io.StringIO()
    run = train_gan(
        g,
        d,
        WGAN,
        data(),
        GanConfig(epochs=2, batch_size=16, z_dim=16, width=8, log_every=5),
        fixed_z=z,
        callbacks=[TensorBoard(tmp_path), Progress("wgan", lines, every=0)],
    )
    acc = EventAccumulator(str(tmp_path), size_guidance={"images": 0})
    acc.Reload()
    assert {"d_loss", "g_loss", "wasserstein", "g_steps", "seconds", "steps/wasserstein"} <= set(acc.Tags()["scalars"])
    assert "lr" not in acc.Tags()["scalars"]  # two optimisers: the variant's, no schedule
    assert [e.step for e in acc.Scalars("steps/d_loss")] == [int(s) for s in run.history.steps["step"]] == [5, 10]
    assert [e.step for e in acc.Images("fixed_noise")] == [1, 2]
    assert "inputs" in acc.Tags()["images"]
    assert "wgan epoch 2/2 d_loss=" in lines.getvalue()


@pytest.mark.parametrize("key,epochs", [("dcgan", 2), ("wgan", 2), ("wgan_gp", 8), ("acgan", 2)])
def test_generator_learns_a_constant_image(key, epochs):
    """A sign error in any loss or a swapped optimiser would push the samples away from the data.
    (The papers' learning rates need thousands of steps to move tanh outputs; 5e-3 needs dozens.)"""
    v = dataclasses.replace(VARIANTS[key], lr=5e-3)
    torch.manual_seed(0)
    g, d = models(v)
    z, y = latent(32, 16, g.num_classes)
    before = (generate(g, z, y) - 0.6).abs().mean().item()
    run = train_gan(
        g, d, v, data(512, value=0.6), GanConfig(epochs=epochs, batch_size=32, z_dim=16, width=8), fixed_z=z, fixed_y=y
    )
    after = (generate(run.generator, z, y) - 0.6).abs().mean().item()
    assert before > 0.55 and after < 0.5 * before


def test_variant_and_models_must_agree_on_classes():
    g, d = models(DCGAN)
    with pytest.raises(ValueError, match="conditional"):
        train_gan(g, d, ACGAN, data(), GanConfig(epochs=1, batch_size=16, z_dim=16), fixed_z=torch.randn(2, 16))


def test_too_few_batches_for_one_generator_step():
    g, d = models(WGAN)
    with pytest.raises(ValueError, match="critic steps"):
        train_gan(g, d, WGAN, data(64), GanConfig(epochs=1, batch_size=16, z_dim=16), fixed_z=torch.randn(2, 16))


def test_frozen_critic_gets_no_weight_gradients_but_passes_input_gradients():
    _, d = models(DCGAN)
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    with frozen(d):
        d(x)[0].sum().backward()
    assert all(p.grad is None for p in d.parameters()) and x.grad is not None
    assert all(p.requires_grad for p in d.parameters())


def test_to_uint8_maps_the_tanh_range_to_pixels():
    assert to_uint8(torch.tensor([-1.0, 0.0, 1.0, 1.5])).tolist() == [0, 128, 255, 255]


def test_report_stability_measures(repo_project):
    from experiments.cpsc8430_hw3.compare import most_stable
    from experiments.cpsc8430_hw3.gans import oscillation, stability

    assert oscillation([3.0, 2.0, 1.0]) == 1.0  # moves one way
    assert oscillation([0.0, 1.0, 0.0, 1.0]) == 3.0  # two full reversals
    assert oscillation([2.0, 2.0]) == 1.0
    steps = {"d_loss": [1.0, 0.5], "g_loss": [0.0, 1.0, 0.0]}
    s = stability([5.0, 3.0, 4.0, 2.0], steps)
    assert (s["rises"], s["best_epoch"], s["regression"], s["loss_oscillation"]) == (1, 4, 0.0, 1.5)
    assert stability([5.0, 3.0, 4.0], steps)["regression"] == pytest.approx(1 / 3)

    def track(rises, regression, osc):
        return {"track": {"rises": rises, "regression": regression, "loss_oscillation": osc}}

    order, best = most_stable(
        {"A": track(1, 0.0, 1.0), "B": track(0, 0.0, 3.0), "C": track(0, 0.0, 1.2), "D": track(0, 0.0, 1.21)}
    )
    assert order == ["C", "D", "B", "A"] and best == ["C", "D"]  # oscillation compared to 0.1
