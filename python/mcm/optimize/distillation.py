"""Knowledge distillation: a thinner student (the teacher's architecture with a quarter of the channels of every
convolution structured pruning can thin) learns from the teacher's softened outputs and the training labels."""

from __future__ import annotations

from pathlib import Path

from mcm.optimize import export, finetune, structured_pruning
from mcm.optimize.base import Applied, Artifact, Context, need_data, need_torch

NAME = "distillation"
#: Fraction of each convolution's channels the student drops.
THINNER = 0.75
EPOCHS = 20


def apply_artifact(model: Artifact, out_dir: Path, ctx: Context) -> Applied:
    """Train a student of ``model``'s PyTorch module on ``ctx.train`` and export it to ``out_dir/model.onnx``."""
    import torch

    teacher = need_torch(model, NAME).eval()
    train = need_data(ctx.train, NAME, "training data for the student", "--train")
    x, y = finetune.training_set(train)
    torch.set_num_threads(ctx.threads)
    student, shape = structured_pruning.prune(teacher, THINNER)
    torch.manual_seed(finetune.SEED)
    for m in student.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()  # a fresh student: only the shape comes from the teacher
    finetune.fine_tune(
        student, x, y, epochs=EPOCHS, lr=3e-3, teacher=teacher, checkpoint=lambda: ctx.checkpoint(NAME)
    )
    out = export.to_onnx(student, ctx.example, out_dir)
    params = [sum(p.numel() for p in m.parameters()) for m in (teacher, student)]
    return Applied(
        NAME,
        Artifact(out, student),
        (
            f"student with {1 - THINNER:.0%} of the teacher's channels ({'; '.join(shape)}), "
            f"parameters {params[0]:,} → {params[1]:,}",
            f"trained {EPOCHS} epochs on {len(x)} samples: labels + teacher outputs at temperature 4",
        ),
        checks={"params_teacher": params[0], "params_student": params[1]},
    )
