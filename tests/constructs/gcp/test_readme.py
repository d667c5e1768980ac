"""The README's GCP preparation grants exactly the deploy runner's documented roles."""

from __future__ import annotations

import re
from pathlib import Path

from synth.gcp_needs import DEPLOYER_ROLES

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_grants_the_deployer_exactly_deployer_roles_deploy_3() -> None:
    text = README.read_text()
    section = text[text.index("### GCP: before the first apply") :]
    loop = section[section.index("for role in") : section.index("; do")]
    on_project = set(re.findall(r"roles/[A-Za-z.]+", loop))
    billing = re.findall(
        r"gcloud billing accounts add-iam-policy-binding \S+ --member=\S+ --role=(roles/\S+)",
        section,
    )
    assert on_project | set(billing) == DEPLOYER_ROLES
    assert billing == ["roles/billing.costsManager"]
