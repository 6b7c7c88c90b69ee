"""Neuron names: the canonical 300-neuron axis, bilateral classes and name normalisation.

The canonical axis is the 302 hermaphrodite neurons minus CANL/CANR (which have no calcium
signal in whole-brain recordings), sorted alphabetically, as in the harmonised multi-lab
dataset (Simeon et al. 2024). Names are facts of anatomy; the list is written out here so the
engine does not depend on any data package to know them.
"""
from __future__ import annotations

import re

CANONICAL_NEURONS: tuple[str, ...] = tuple("""
ADAL ADAR ADEL ADER ADFL ADFR ADLL ADLR AFDL AFDR AIAL AIAR AIBL AIBR AIML AIMR AINL AINR AIYL
AIYR AIZL AIZR ALA ALML ALMR ALNL ALNR AQR AS1 AS10 AS11 AS2 AS3 AS4 AS5 AS6 AS7 AS8 AS9 ASEL
ASER ASGL ASGR ASHL ASHR ASIL ASIR ASJL ASJR ASKL ASKR AUAL AUAR AVAL AVAR AVBL AVBR AVDL AVDR
AVEL AVER AVFL AVFR AVG AVHL AVHR AVJL AVJR AVKL AVKR AVL AVM AWAL AWAR AWBL AWBR AWCL AWCR BAGL
BAGR BDUL BDUR CEPDL CEPDR CEPVL CEPVR DA1 DA2 DA3 DA4 DA5 DA6 DA7 DA8 DA9 DB1 DB2 DB3 DB4 DB5
DB6 DB7 DD1 DD2 DD3 DD4 DD5 DD6 DVA DVB DVC FLPL FLPR HSNL HSNR I1L I1R I2L I2R I3 I4 I5 I6
IL1DL IL1DR IL1L IL1R IL1VL IL1VR IL2DL IL2DR IL2L IL2R IL2VL IL2VR LUAL LUAR M1 M2L M2R M3L M3R
M4 M5 MCL MCR MI NSML NSMR OLLL OLLR OLQDL OLQDR OLQVL OLQVR PDA PDB PDEL PDER PHAL PHAR PHBL
PHBR PHCL PHCR PLML PLMR PLNL PLNR PQR PVCL PVCR PVDL PVDR PVM PVNL PVNR PVPL PVPR PVQL PVQR PVR
PVT PVWL PVWR RIAL RIAR RIBL RIBR RICL RICR RID RIFL RIFR RIGL RIGR RIH RIML RIMR RIPL RIPR RIR
RIS RIVL RIVR RMDDL RMDDR RMDL RMDR RMDVL RMDVR RMED RMEL RMER RMEV RMFL RMFR RMGL RMGR RMHL
RMHR SAADL SAADR SAAVL SAAVR SABD SABVL SABVR SDQL SDQR SIADL SIADR SIAVL SIAVR SIBDL SIBDR
SIBVL SIBVR SMBDL SMBDR SMBVL SMBVR SMDDL SMDDR SMDVL SMDVR URADL URADR URAVL URAVR URBL URBR
URXL URXR URYDL URYDR URYVL URYVR VA1 VA10 VA11 VA12 VA2 VA3 VA4 VA5 VA6 VA7 VA8 VA9 VB1 VB10
VB11 VB2 VB3 VB4 VB5 VB6 VB7 VB8 VB9 VC1 VC2 VC3 VC4 VC5 VC6 VD1 VD10 VD11 VD12 VD13 VD2 VD3 VD4
VD5 VD6 VD7 VD8 VD9
""".split())

NEURON_INDEX: dict[str, int] = {name: slot for slot, name in enumerate(CANONICAL_NEURONS)}
_CANONICAL = frozenset(CANONICAL_NEURONS)

# Names some labs write differently from the canonical spelling.
_ALIASES = {"AWCON": "AWCR", "AWCOFF": "AWCL"}  # the ON/OFF identity is random left/right;
# mapping them to a fixed side is the harmonised dataset's convention, flagged in a warning.


def _bilateral_class(name: str) -> str:
    """AVAL -> AVA when AVAR also exists; unpaired names (AVL, RIR, ALA) are their own class."""
    if name[-1] in "LR":
        partner = name[:-1] + ("R" if name[-1] == "L" else "L")
        if partner in _CANONICAL:
            return name[:-1]
    return name


BILATERAL_CLASS: dict[str, str] = {n: _bilateral_class(n) for n in CANONICAL_NEURONS}
"""Canonical neuron -> its left/right-merged class (AVAL -> AVA, AVL -> AVL)."""

CANONICAL_CLASSES: tuple[str, ...] = tuple(sorted(set(BILATERAL_CLASS.values())))
"""The bilateral-merged axis (AVA, AVL, ...), sorted like the neuron axis."""
CLASS_INDEX: dict[str, int] = {name: slot for slot, name in enumerate(CANONICAL_CLASSES)}

CLASS_MEMBERS: dict[str, tuple[str, ...]] = {}
for _name, _cls in BILATERAL_CLASS.items():
    CLASS_MEMBERS[_cls] = CLASS_MEMBERS.get(_cls, ()) + (_name,)


def normalise_name(raw) -> tuple[str | None, str | None]:
    """Map a label as written in a file to a canonical name.

    Returns ``(name, warning)``: ``name`` is None for empty, uncertain (``AIM?``) or unknown
    labels, and ``warning`` says why when a non-empty label could not be used.
    """
    if raw is None:
        return None, None
    text = str(raw).strip()
    if text == "" or text.lower() in {"nan", "none", "undefined", "unknown"}:
        return None, None
    if "?" in text:
        return None, f"uncertain label {text!r} left unlabelled"
    name = re.sub(r"\s+", "", text).upper()
    name = _ALIASES.get(name, name)
    if name in _CANONICAL:
        return name, None
    # Leading zeros in numbered motor neurons ("VA01") are common in hand-made tables.
    stripped = re.sub(r"(?<=[A-Z])0+(?=[1-9])", "", name)
    if stripped in _CANONICAL:
        return stripped, None
    return None, f"unknown neuron name {text!r} left unlabelled"


def search_neurons(query: str, names=CANONICAL_NEURONS) -> list[str]:
    """Neurons among ``names`` whose name or bilateral class starts with ``query`` (any case)."""
    q = query.strip().upper()
    if not q:
        return []
    return [n for n in names if n.startswith(q) or BILATERAL_CLASS.get(n, n) == q]
