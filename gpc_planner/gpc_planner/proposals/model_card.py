"""Model cards: what a proposal model is, in Markdown beside it, and its sampling settings.

``gpc train`` writes ``OUT/model_card.md`` (``render_model_card``; ``render_nf_model_card``
for the NFMPC and FlowMPPI flows) and ``model_card.json``;
shipped models carry ``NAME.model_card.md`` beside ``NAME.pt``. The card's "Recommended
sampling" section shows the model file's ``sampling`` entry (``gpc_planner.sampling``);
``set_model_sampling`` (``gpc model set-sampling``) rewrites that entry and the section
together, so the card never says other than the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from gpc_planner.atomic import write_atomic, write_json_atomic
from gpc_planner.registry import METHODS, MODEL_METHODS
from gpc_planner.sampling import (
    PAPER_SAMPLING,
    SamplingSettings,
    check_sampling_entry,
    recommended_sampling,
    sampling_key,
    split_sampling_key,
)
from gpc_sim.errors import ConfigError

SAMPLING_HEADING = "## Recommended sampling"


def _episodes_kind(dataset: dict) -> str:
    """What the training episodes were: successes, and failures near the goal if asked."""
    failures = dataset.get("failed_episodes") or 0
    if not failures:
        return "all successful"
    return (f"{dataset['episodes'] - failures} successful, {failures} failed within "
            f"{dataset['failures_within_m']:g} m of the goal position")


def render_model_card(card: dict) -> str:
    """The Markdown card of a trained model from its JSON card (``train._model_card``)."""
    s = card["settings"]
    return "\n".join([
        f"# Proposal model: {card['task']}",
        "",
        "Conditional flow-matching model of CEM control sequences (GPC), trained by `gpc train`.",
        "",
        f"- data: {', '.join(card['data'])} ({card['dataset']['samples']} samples from "
        f"{card['dataset']['episodes']} episodes: "
        + _episodes_kind(card['dataset'])
        + ("; half the samples are mirror images of the other half" if s.get("mirror")
           else "") + ")",
        f"- network: MLP {s['hidden']} x {s['layers']}, {s['time_features']} time frequencies",
        f"- training: {s['epochs']} epochs, batch {s['batch_size']}, Adam lr {s['lr']}, "
        f"{s['warmup_steps']} warm-up steps + cosine, {card['steps']} steps, seed {card['seed']}",
        f"- final loss: {card['final_loss']:.5f} (min {card['min_loss']:.5f})",
        f"- wall time: {card['wall_time_s']} s; versions: "
        + ", ".join(f"{k} {v}" for k, v in card["versions"].items()),
        f"- created: {card['created']}",
        "",
        "Settings of the collection:",
        "",
        "```json",
        json.dumps(card["dataset"]["collection_settings"], indent=2),
        "```",
        "",
        render_sampling_section(card.get("sampling") or {}),
    ])


def _selected_line(selected: dict | None) -> str:
    if not selected:
        return "- weights: the last episode's"
    return (f"- weights: after episode {selected['episode']}, the end of the "
            f"{selected['window']}-episode window with the highest training success "
            f"({selected['success_rate']:.2f}); the checkpoint holds the last")


def _shift_lines(card: dict) -> list[str]:
    """NFMPC's shift model: learnt or kept fixed, what it starts as, the backpropagation
    window (cards from before these settings existed: the hold start, whole episodes)."""
    if card["method"] != "nfmpc":
        return []
    s = card["settings"]
    start = ("time shift, zero appended" if s.get("shift_tail", "hold") == "zero"
             else "time shift, last knot held")
    kept = "learnt from" if s.get("learn_shift", True) else "kept at"
    window = s.get("bptt_steps", 0)
    through = f"{window} steps" if window else "whole episodes"
    anchor = s.get("shift_anchor", 0)
    held = f", held near it (penalty {anchor:g} x squared weight change)" if anchor else ""
    return [f"- latent shift: {kept} the {start}{held}; backpropagation through {through}"]


def render_nf_model_card(card: dict) -> str:
    """The Markdown card of an NFMPC or FlowMPPI flow from its JSON card
    (``nf_train._model_card``)."""
    s, recent = card["settings"], card["recent"]

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    shift = ("a learnt latent shift model" if s.get("learn_shift", True)
             else "its latent shift kept fixed (the paper's ablation)")
    what = (f"conditional RealNVP flow over whole control sequences with {shift}; MPPI on "
            "its latent mean (NFMPC, Sacks & Boots, Sec. 3)"
            if card["method"] == "nfmpc" else
            "conditional RealNVP flow in control space, sampled beside Gaussian "
            "perturbations of the MPPI mean (FlowMPPI, Power & Berenson)")
    loss = "-" if recent["loss"] is None else f"{recent['loss']:.4f}"
    return "\n".join([
        f"# {card['method']} model: {card['task']}",
        "",
        f"A {what}, trained by `gpc train --method {card['method']}` on its own closed-loop "
        "episodes (likelihood-ratio gradient, Eqs. 11-14).",
        "",
        f"- flow: {s['couplings']} affine couplings, MLPs {s['hidden']} x {s['layers']}",
        f"- training: {card['episodes']} episodes of {s['rollouts']} samples per step, Adam "
        f"lr {s['lr']}, gradient norm clipped at {s['grad_clip']}, seed {card['seed']}",
        f"- last {recent['episodes']} episodes: success {share(recent['success_rate'])}, "
        f"collisions {share(recent['collision_rate'])}, loss {loss}",
        *_shift_lines(card),
        _selected_line(card.get("selected")),
        f"- wall time: {card['wall_time_s']} s ({card['seconds_per_episode']} s per episode); "
        "versions: " + ", ".join(f"{k} {v}" for k, v in card["versions"].items()),
        f"- created: {card['created']}",
        "",
        "Controller settings it was trained with (evaluation plans with the method's "
        "defaults; keep them equal):",
        "",
        "```json",
        json.dumps(card["controller"], indent=2),
        "```",
        "",
        render_sampling_section(card.get("sampling") or {}),
    ])


def _sampling_row(key: str, settings: dict) -> str:
    method, task = split_sampling_key(key)
    return (f"| {method} | {task or 'any'} | {settings['flow_noise']:g} | "
            f"{settings['flow_steps']} |")


def render_sampling_section(sampling: dict) -> str:
    """The card's "Recommended sampling" section for a model's ``sampling`` entry."""
    paper = (f"the paper's settings (flow noise {PAPER_SAMPLING.flow_noise:g}, "
             f"{PAPER_SAMPLING.flow_steps} flow steps)")
    lines = [SAMPLING_HEADING, ""]
    if not sampling:
        lines.append(f"None recorded: a run given no flow setting samples this model with "
                     f"{paper}. `gpc model set-sampling` records a recommendation.")
    else:
        lines += ["What a run given no flow setting (`gpc eval`, `gpc demo`, `gpc collect "
                  "--proposal`, `gpc bench proposal`, the planner node) samples this model "
                  "with; `gpc model set-sampling` changes it:",
                  "",
                  "| method | task | flow noise | flow steps |",
                  "| --- | --- | --- | --- |",
                  *(_sampling_row(key, s) for key, s in sorted(sampling.items())),
                  "",
                  f"A task's own row comes before the method's \"any\" row. Methods not listed: "
                  f"{paper}."]
    return "\n".join(lines) + "\n"


def with_sampling_section(markdown: str, sampling: dict) -> str:
    """``markdown`` with its "Recommended sampling" section replaced by one for
    ``sampling`` (appended when it has none, as the cards of older models)."""
    section = render_sampling_section(sampling)
    start = markdown.find(SAMPLING_HEADING + "\n")
    if start < 0 or (start > 0 and markdown[start - 1] != "\n"):
        return markdown.rstrip("\n") + "\n\n" + section
    end = markdown.find("\n## ", start + len(SAMPLING_HEADING))
    rest = "" if end < 0 else markdown[end + 1:]
    return markdown[:start] + section + ("\n" + rest if rest else "")


def model_card_paths(model: str | Path) -> tuple[Path, Path]:
    """(Markdown, JSON) card of the model file ``model``: ``NAME.model_card.md``/``.json``
    beside ``NAME.pt`` (shipped models), or ``model_card.md``/``.json`` in a ``gpc train``
    folder (``model.pt``) that has no card of the first kind."""
    model = Path(model)
    own = (model.with_name(f"{model.stem}.model_card.md"),
           model.with_name(f"{model.stem}.model_card.json"))
    if model.name == "model.pt" and not any(p.exists() for p in own):
        return model.with_name("model_card.md"), model.with_name("model_card.json")
    return own


def set_model_sampling(model: str | Path, method: str, flow_noise: float | None = None,
                       flow_steps: int | None = None, clear: bool = False,
                       task: str | None = None) -> dict[str, dict[str, float | int]]:
    """Record in the model file ``model`` how ``method`` should sample it (on ``task``
    only, when given), and show it in the model's card; returns the file's new
    ``sampling`` entry.

    ``flow_noise`` / ``flow_steps`` left None keep what the method samples with now
    (on ``task``: its own recommendation, else the method's, else the paper's);
    ``clear`` drops the entry (the method's, or the method's on ``task``). The model
    file is rewritten atomically (its weights unchanged, its sha256 not); then the
    card's sampling section (``NAME.model_card.md``, and the ``sampling`` key of a JSON
    card) is regenerated, a card created if there was none.
    """
    from gpc_planner.proposals.model_files import model_from_file_dict, read_model_file
    from gpc_planner.proposals.torch_io import save_atomic

    if method not in MODEL_METHODS:
        raise ConfigError(f"{method!r} samples no proposal model; methods that do: "
                          f"{', '.join(MODEL_METHODS)}", setting="method")
    if task is not None:
        from gpc_sim.tasks import check_task_name

        check_task_name(task, setting="task")
    if clear and (flow_noise is not None or flow_steps is not None):
        raise ConfigError("clear drops the method's settings: give no flow setting with it",
                          setting="clear")
    if not clear and flow_noise is None and flow_steps is None:
        raise ConfigError("nothing to set: give flow_noise and/or flow_steps, or clear")
    path = Path(model)
    contents = read_model_file(path)
    kind = model_from_file_dict(contents, source=str(path)).kind  # a whole, valid file
    if kind != METHODS[method].model_kind:
        raise ConfigError(f"model {path} comes from training method {kind}; {method} samples "
                          f"models of training method {METHODS[method].model_kind}",
                          setting="method")
    sampling = check_sampling_entry(contents.get("sampling", {}), str(path))
    key = sampling_key(method, task)
    if clear:
        sampling.pop(key, None)
    else:
        current = recommended_sampling(sampling, method, task)
        chosen = SamplingSettings(
            flow_noise=current.flow_noise if flow_noise is None else flow_noise,
            flow_steps=current.flow_steps if flow_steps is None else flow_steps)
        sampling[key] = {"flow_noise": float(chosen.flow_noise),
                            "flow_steps": int(chosen.flow_steps)}
    contents["sampling"] = sampling
    save_atomic(contents, path)
    markdown, card_json = model_card_paths(path)
    if card_json.is_file():
        try:
            card = json.loads(card_json.read_text())
        except (OSError, ValueError) as err:
            raise ConfigError(f"{card_json} is not a readable JSON card: {err}") from None
        if isinstance(card, dict):
            card["sampling"] = sampling
            write_json_atomic(card_json, card)
    text = (markdown.read_text() if markdown.is_file()
            else f"# Proposal model: {contents.get('task', path.stem)}\n")
    write_atomic(markdown, with_sampling_section(text, sampling).encode())
    return sampling


__all__ = ["model_card_paths", "render_model_card", "render_nf_model_card",
           "render_sampling_section", "set_model_sampling", "with_sampling_section"]
