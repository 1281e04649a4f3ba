"""S2VT, sequence to sequence -- video to text (Venugopalan et al., ICCV 2015), and its training.

Two stacked recurrent layers run over T frames and then over the words. In the encoding stage
layer 1 reads the (projected) frame features and layer 2 reads layer 1's output next to a <PAD>
word; in the decoding stage layer 1 reads padding frames and layer 2 reads layer 1's output next
to the previous word and emits the next one. The same weights serve both stages. Optionally layer 2
also reads an attention context over layer 1's frame states (additive attention, Bahdanau et al.
2015). Training uses teacher forcing with scheduled sampling (Bengio et al. 2015).

Not a registered model: the model registry is for image classifiers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data.captions import BOS, EOS, PAD
from ..data.tensors import Split
from ..train.config import TrainConfig
from ..train.loop import Callback, FitState, History, fit
from ..train.step import Batch, Logs, Supervised

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # GRU: h; LSTM: (h, c); each (1, B, H)


def _top(state: State) -> torch.Tensor:
    """The hidden state h (B, H) of a GRU or LSTM state."""
    return (state[0] if isinstance(state, tuple) else state)[-1]


def _select(state: State, idx: torch.Tensor) -> State:
    """The batch entries ``idx`` of a state (for beam search)."""
    return tuple(s[:, idx] for s in state) if isinstance(state, tuple) else state[:, idx]


class AdditiveAttention(nn.Module):
    """score(q, k_t) = vᵀ tanh(W_q q + W_k k_t); context = Σ_t softmax(score)_t · k_t."""

    def __init__(self, hidden: int):
        super().__init__()
        self.query = nn.Linear(hidden, hidden, bias=False)
        self.key = nn.Linear(hidden, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)

    def forward(self, query: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        # query (B, H); memory, keys (B, T, H) -> context (B, H)
        weights = self.score(torch.tanh(keys + self.query(query)[:, None])).softmax(dim=1)  # (B, T, 1)
        return (weights * memory).sum(dim=1)


@dataclass
class Encoded:
    """What the decoding stage needs from the encoding stage."""

    memory: torch.Tensor  # layer 1's output over the frames (B, T, H): what attention reads
    keys: torch.Tensor | None  # the attention keys of ``memory``, computed once
    s1: State
    s2: State

    def select(self, idx: torch.Tensor) -> Encoded:
        return Encoded(
            self.memory[idx],
            None if self.keys is None else self.keys[idx],
            _select(self.s1, idx),
            _select(self.s2, idx),
        )


class S2VT(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        feat_dim: int = 4096,
        hidden: int = 256,
        embed: int = 256,
        cell: str = "lstm",
        attention: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"unknown cell {cell!r} (lstm, gru)")
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.hidden = hidden
        self.project = nn.Linear(feat_dim, hidden)  # 4096-d CNN features -> the recurrent width
        self.embed = nn.Embedding(vocab_size, embed, padding_idx=PAD)
        self.attention = AdditiveAttention(hidden) if attention else None
        self.rnn1 = rnn(hidden, hidden, batch_first=True)
        self.rnn2 = rnn(hidden + embed + (hidden if attention else 0), hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab_size)

    def encode(self, feats: torch.Tensor) -> Encoded:
        """The encoding stage over all frames at once: feats (B, T, F)."""
        b, t, _ = feats.shape
        out1, s1 = self.rnn1(self.drop(self.project(feats)))  # (B, T, H)
        pad = feats.new_zeros(b, t, self.rnn2.input_size - self.hidden)  # <PAD> word (and no context)
        _, s2 = self.rnn2(torch.cat([self.drop(out1), pad], dim=-1))
        keys = self.attention.key(out1) if self.attention is not None else None
        return Encoded(out1, keys, s1, s2)

    def step(self, word: torch.Tensor, enc: Encoded) -> tuple[torch.Tensor, Encoded]:
        """One decoding step: previous word (B,) -> next-word logits (B, V) and the new state."""
        o1, s1 = self.rnn1(enc.memory.new_zeros(len(word), 1, self.hidden), enc.s1)  # a padding frame
        parts = [self.drop(o1), self.embed(word)[:, None]]  # (B, 1, H), (B, 1, E)
        if self.attention is not None:
            parts.append(self.attention(_top(enc.s2), enc.memory, enc.keys)[:, None])  # (B, 1, H)
        o2, s2 = self.rnn2(torch.cat(parts, dim=-1), enc.s2)
        return self.out(self.drop(o2[:, 0])), Encoded(enc.memory, enc.keys, s1, s2)

    def forward(
        self,
        feats: torch.Tensor,
        captions: torch.Tensor,
        sampling: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Logits (B, L-1, V) for captions[:, 1:] given captions (B, L) that start with <BOS>.

        With probability ``sampling`` per caption and step, the previous word fed in is the model's
        own prediction (argmax) instead of the true one: scheduled sampling; 0 is teacher forcing.
        """
        enc = self.encode(feats)
        word, logits = captions[:, 0], []
        for t in range(1, captions.shape[1]):
            out, enc = self.step(word, enc)
            logits.append(out)
            word = captions[:, t]
            if sampling > 0:
                own = torch.rand(len(word), generator=generator).to(word.device) < sampling
                word = torch.where(own, out.detach().argmax(-1), word)
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def greedy(self, feats: torch.Tensor, max_words: int = 20) -> list[list[int]]:
        """The most likely next word at every step, up to <EOS> (not included) or ``max_words``."""
        enc = self.encode(feats)
        word = torch.full((len(feats),), BOS, dtype=torch.long, device=feats.device)
        done = torch.zeros(len(feats), dtype=torch.bool, device=feats.device)
        steps = []
        for _ in range(max_words + 1):  # one step more: a caption of max_words words still ends
            out, enc = self.step(word, enc)
            word = out.argmax(-1)
            steps.append(word)
            done |= word == EOS
            if done.all():
                break
        return [_until_eos(seq)[:max_words] for seq in torch.stack(steps, 1).tolist()]

    @torch.no_grad()
    def beam_search(
        self, feats: torch.Tensor, beam: int = 5, max_words: int = 20, alpha: float = 1.0
    ) -> list[list[int]]:
        """Beam search per video; the winner maximises log-probability / (words + 1)^alpha.

        At each step the ``beam`` best extensions of the live hypotheses survive; those ending in
        <EOS> leave the beam as finished. The search stops when no live hypothesis can still beat
        the best finished one (log-probabilities only fall, so ``log p / (max_words + 1)^alpha``
        bounds a live one's final score). beam=1 is greedy decoding.
        """
        if beam < 1 or alpha < 0:
            raise ValueError(f"beam search needs beam >= 1 and alpha >= 0, got {beam}, {alpha}")
        enc = self.encode(feats)
        return [
            self._beam_one(enc.select(torch.tensor([i], device=feats.device)), beam, max_words, alpha)
            for i in range(len(feats))
        ]

    def _beam_one(self, enc: Encoded, beam: int, max_words: int, alpha: float) -> list[int]:
        device = enc.memory.device
        seqs: list[list[int]] = [[]]
        scores = torch.zeros(1, device=device)  # log-probability of each live hypothesis
        finished: list[tuple[float, list[int]]] = []  # (normalised score, words)
        for t in range(max_words + 1):
            out, step_enc = self.step(torch.tensor([s[-1] if s else BOS for s in seqs], device=device), enc)
            logp = out.log_softmax(-1)  # (live, V)
            if t == max_words:  # the last step may only end a hypothesis
                logp = torch.where(torch.arange(logp.shape[1], device=device) == EOS, logp, -torch.inf)
            top = (scores[:, None] + logp).flatten().topk(min(beam, logp.numel()))
            keep, keep_scores = [], []
            for score, idx in zip(top.values.tolist(), top.indices.tolist()):
                src, word = divmod(idx, logp.shape[1])
                if word == EOS:
                    finished.append((score / (len(seqs[src]) + 1) ** alpha, seqs[src]))
                elif score > -torch.inf:
                    keep.append((src, seqs[src] + [word]))
                    keep_scores.append(score)
            best = max((f[0] for f in finished), default=-torch.inf)
            if not keep or max(keep_scores) / (max_words + 1) ** alpha <= best:
                break
            enc = step_enc.select(torch.tensor([src for src, _ in keep], device=device))
            seqs, scores = [s for _, s in keep], torch.tensor(keep_scores, device=device)
        return max(finished, key=lambda f: f[0])[1]


def _until_eos(seq: list[int]) -> list[int]:
    return seq[: seq.index(EOS)] if EOS in seq else seq


# ---- training ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaptionTrainConfig(TrainConfig):
    sampling_max: float = 0.25  # scheduled sampling: P(feed own prediction) rises linearly 0 -> this


def caption_loss(logits: torch.Tensor, captions: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy of logits (B, L-1, V) against captions[:, 1:], ignoring <PAD>."""
    return F.cross_entropy(
        logits.flatten(0, 1), captions[:, 1:].flatten(), ignore_index=PAD, label_smoothing=label_smoothing
    )


def sampling_at(epoch: int, cfg: CaptionTrainConfig) -> float:
    """Scheduled-sampling probability of epoch 1..epochs: 0 at the first, ``sampling_max`` at the last."""
    return cfg.sampling_max * (epoch - 1) / max(cfg.epochs - 1, 1)


class CaptionStep(Supervised):
    """fit's supervised step on (video, caption) pairs: teacher forcing with scheduled sampling at
    the epoch's probability, drawn from fit's generator. Batches are (owner, captions) of pairs; the
    features stay where they are and only the batch's videos move to the device."""

    amp = False  # the recurrent decoder trains in float32

    def __init__(self, feats: torch.Tensor):
        super().__init__()
        self.feats = feats

    def loss(self, state: FitState, batch: Batch) -> tuple[torch.Tensor, Logs]:
        owner, caps = batch
        feats = self.feats[owner.to(self.feats.device)].to(state.device)
        logits = state.model(feats, caps, sampling_at(state.epoch, state.cfg), state.generator)
        loss = caption_loss(logits, caps, state.cfg.label_smoothing)
        state.loss = loss.detach()
        return loss, {"n": len(caps), "train_loss": state.loss * len(caps)}

    def epoch_logs(self, state: FitState) -> dict[str, float]:
        return {"sampling": sampling_at(state.epoch, state.cfg)}


def fit_captioner(
    model: S2VT,
    feats: torch.Tensor,
    captions: torch.Tensor,
    owner: torch.Tensor,
    cfg: CaptionTrainConfig,
    val: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    callbacks: Iterable[Callback] = (),
    seed: int = 0,
) -> History:
    """Train on every (video, caption) pair: ``captions`` (M, L) belong to videos ``owner`` (M,) of
    ``feats`` (N, T, F). Logs train_loss (teacher forcing with scheduled sampling), sampling,
    val_loss (pure teacher forcing, untimed), lr and seconds per epoch; ``fit`` runs the epochs."""

    def validate(state: FitState) -> dict[str, float]:
        return {"val_loss": caption_eval_loss(state.model, *val, cfg)}

    return fit(
        model,
        (Split(owner, captions), None),
        cfg,
        callbacks,
        seed=seed,
        step=CaptionStep(feats),
        on_epoch=validate if val is not None else None,
    )


@torch.no_grad()
def caption_eval_loss(
    model: S2VT, feats: torch.Tensor, captions: torch.Tensor, owner: torch.Tensor, cfg: TrainConfig
) -> float:
    """Teacher-forced cross-entropy per word over every (video, caption) pair, in eval mode."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total = count = 0.0
    for idx in torch.arange(len(captions)).split(cfg.batch_size):  # gathered features: keep batches small
        caps = captions[idx].to(device)
        words = (caps[:, 1:] != PAD).sum().item()
        total += caption_loss(model(feats[owner[idx]].to(device), caps), caps).item() * words
        count += words
    model.train(was_training)
    return total / max(count, 1)
