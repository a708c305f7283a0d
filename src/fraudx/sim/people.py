"""People: national ID numbers in each country's real format, names, birth dates.

Thailand's 13-digit personal identification number and China's 18-digit resident
identity card number carry check digits (python-stdnum checks both, and China's birth
place against the official division codes). Vietnam's 12-digit citizen identity number
has a structure (province, century and sex, birth year) but no check digit; Cambodia's
and Laos' ID card numbers and Myanmar's NRC have no published check digit, so only their
shape is real.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudx.sim.model import rng

PEOPLE_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("country", pa.string()),
        ("national_id", pa.string()),
        ("id_type", pa.string()),
        ("name", pa.string()),
        ("birth_date", pa.date32()),
        ("sex", pa.string()),
    ]
)

ID_TYPES = {
    "CN": "cn_ric",
    "TH": "th_pin",
    "VN": "vn_cccd",
    "KH": "kh_national_id",
    "LA": "la_id_card",
    "MM": "mm_nrc",
}

_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "CN": (
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu"),
        ("Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Qiang", "Xiu Ying", "Hao"),
    ),
    "TH": (
        ("Saelim", "Srisuk", "Chaiyaporn", "Wongsa", "Boonmee", "Sukjai", "Kaewmanee"),
        ("Somchai", "Sombat", "Malee", "Nattaya", "Anan", "Kanya", "Prasert", "Siriporn"),
    ),
    "VN": (
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Huynh", "Phan", "Vu", "Vo", "Dang"),
        ("Van An", "Thi Lan", "Minh Duc", "Thi Hoa", "Quang Huy", "Thu Trang", "Van Nam"),
    ),
    "KH": (
        ("Sok", "Chan", "Heng", "Keo", "Chea", "Meas", "Prak", "Sam", "Seng", "Ly"),
        ("Dara", "Sophea", "Vibol", "Srey Mom", "Pisey", "Rith", "Bopha", "Sovann"),
    ),
    "LA": (
        ("Phommachanh", "Sisouk", "Keomany", "Vongsa", "Inthavong", "Souvannavong"),
        ("Bounmy", "Khamla", "Somphone", "Noy", "Vilay", "Chanthala", "Phet", "Souk"),
    ),
    "MM": (
        ("Aung", "Kyaw", "Htun", "Win", "Myint", "Thant", "Zaw", "Naing", "Oo", "Soe"),
        ("Mya Mya", "Hla Hla", "Min Thu", "Ei Mon", "Thida", "Ko Ko", "Su Su", "Zaw Min"),
    ),
}
_GENERIC_NAMES = (
    ("Tan", "Lim", "Santos", "Kumar", "Smith", "Garcia", "Kim", "Sato", "Ali", "Reyes"),
    ("Alex", "Maria", "Daniel", "Sara", "Jon", "Mina", "Ravi", "Lena", "Omar", "Ana"),
)

# Myanmar NRC: state or region number and a few of its real township abbreviations.
_MM_TOWNSHIPS: tuple[tuple[int, str], ...] = (
    (12, "KaMaYa"),
    (12, "OuKaMa"),
    (12, "DaGaNa"),
    (12, "LaMaNa"),
    (9, "MaHaMa"),
    (9, "AhMaZa"),
    (10, "MaLaMa"),
    (13, "TaKaNa"),
    (7, "PaKhaNa"),
    (3, "BaAhNa"),
    (3, "MaWaTa"),
    (1, "MaKaNa"),
)
# Vietnam: province codes of the citizen identity number (Hanoi 001, HCMC 079, ...).
_VN_PROVINCES = (1, 2, 4, 22, 26, 31, 33, 34, 36, 38, 40, 44, 46, 48, 56, 66, 74, 75, 79, 92)

_EPOCH = date(1970, 1, 1).toordinal()


@cache
def cn_division_codes() -> tuple[str, ...]:
    """Six-digit county codes of China valid in every year (from stdnum's own table)."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text("utf-8")
    codes: list[str] = []
    province = ""
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        parts = line.split(None, 1)
        code = province + parts[0].strip()
        if len(code) == 6 and not code.endswith("00") and '"[' not in line:
            codes.append(code)
    return tuple(codes)


def _digits_to_str(digits: np.ndarray) -> np.ndarray:
    """Rows of digits (N x k, 0-9) to an array of k-character strings."""
    k = digits.shape[1]
    raw = (digits.astype(np.uint8) + ord("0")).tobytes()
    return np.frombuffer(raw, dtype=f"S{k}").astype(f"U{k}")


def _birth_dates(gen: np.random.Generator, n: int) -> np.ndarray:
    """Adults aged 18 to 75 on 1 May 2026, as days since 1970-01-01."""
    lo = date(1951, 1, 1).toordinal() - _EPOCH
    hi = date(2008, 4, 30).toordinal() - _EPOCH
    return gen.integers(lo, hi, n).astype(np.int32)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(int) + 1970
    m = d.astype("datetime64[M]").astype(int) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(int) + 1
    return y, m, dd


def th_pins(gen: np.random.Generator, n: int) -> np.ndarray:
    """Thai PINs: first digit 1-8 (category), 11 more digits, MOD 11 check digit."""
    body = gen.integers(0, 10, (n, 12))
    body[:, 0] = gen.integers(1, 9, n)
    weights = np.arange(13, 1, -1)
    s = (body * weights).sum(axis=1) % 11
    check = (1 - s) % 10
    return _digits_to_str(np.column_stack([body, check]))


def cn_rics(gen: np.random.Generator, n: int, births: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Chinese resident identity numbers: division code, birth date, sequence, ISO 7064."""
    codes = np.array(cn_division_codes())
    area = codes[gen.integers(0, len(codes), n)]
    area_digits = np.frombuffer("".join(area).encode(), dtype=np.uint8).reshape(n, 6) - 48
    y, m, d = _ymd(births)
    seq = gen.integers(0, 500, n) * 2 + (sex == "M")  # odd for men, even for women
    date_digits = np.column_stack(
        [y // 1000, y // 100 % 10, y // 10 % 10, y % 10, m // 10, m % 10, d // 10, d % 10]
    )
    seq_digits = np.column_stack([seq // 100, seq // 10 % 10, seq % 10])
    body = np.column_stack([area_digits, date_digits, seq_digits]).astype(np.int64)
    weights = np.array([pow(2, 16 - i, 11) for i in range(17)])
    check = (1 - 2 * (body * weights).sum(axis=1)) % 11
    text = _digits_to_str(body)
    tail = np.where(check == 10, "X", check.astype(str))
    return np.char.add(text, tail)


def vn_cccds(gen: np.random.Generator, n: int, births: np.ndarray, sex: np.ndarray) -> np.ndarray:
    province = np.array(_VN_PROVINCES)[gen.integers(0, len(_VN_PROVINCES), n)]
    y, _, _ = _ymd(births)
    century_sex = (y >= 2000) * 2 + (sex == "F")
    body = np.column_stack(
        [
            province // 100,
            province // 10 % 10,
            province % 10,
            century_sex,
            y // 10 % 10,
            y % 10,
            gen.integers(0, 10, (n, 6)),
        ]
    )
    return _digits_to_str(body)


def kh_ids(gen: np.random.Generator, n: int) -> np.ndarray:
    """Cambodian ID card numbers: 9 digits, the first two the province (01-25)."""
    province = gen.integers(1, 26, n)
    body = np.column_stack([province // 10, province % 10, gen.integers(0, 10, (n, 7))])
    return _digits_to_str(body)


def la_ids(gen: np.random.Generator, n: int) -> np.ndarray:
    """Lao ID card numbers: 9 digits, not starting with 0 (shape only)."""
    body = gen.integers(0, 10, (n, 9))
    body[:, 0] = gen.integers(1, 10, n)
    return _digits_to_str(body)


def mm_nrcs(gen: np.random.Generator, n: int) -> np.ndarray:
    """Myanmar NRC numbers, e.g. ``12/OuKaMa(N)123456``."""
    pick = gen.integers(0, len(_MM_TOWNSHIPS), n)
    prefix = np.array([f"{s}/{t}(N)" for s, t in _MM_TOWNSHIPS])[pick]
    return np.char.add(prefix, _digits_to_str(gen.integers(0, 10, (n, 6))))


def generic_ids(gen: np.random.Generator, n: int, country: str) -> np.ndarray:
    return np.char.add(country, _digits_to_str(gen.integers(0, 10, (n, 9))))


def make_people(seed: int, country: str, n: int, first_id: int, stream: str) -> pa.Table:
    """``n`` people of one country, ids from ``first_id``; the same inputs, the same rows."""
    gen = rng(seed, stream, country)
    births = _birth_dates(gen, n)
    sex = np.where(gen.random(n) < 0.5, "F", "M")
    if country == "TH":
        ids = th_pins(gen, n)
    elif country == "CN":
        ids = cn_rics(gen, n, births, sex)
    elif country == "VN":
        ids = vn_cccds(gen, n, births, sex)
    elif country == "KH":
        ids = kh_ids(gen, n)
    elif country == "LA":
        ids = la_ids(gen, n)
    elif country == "MM":
        ids = mm_nrcs(gen, n)
    else:
        ids = generic_ids(gen, n, country)
    families, givens = _NAMES.get(country, _GENERIC_NAMES)
    family = pa.array(np.array(families)[gen.integers(0, len(families), n)])
    given = pa.array(np.array(givens)[gen.integers(0, len(givens), n)])
    # Chinese, Vietnamese and Cambodian names put the family name first.
    first, second = (family, given) if country in ("CN", "VN", "KH") else (given, family)
    names = pc.binary_join_element_wise(first, second, " ")
    return pa.table(
        {
            "person_id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "country": pa.array([country] * n, pa.string()),
            "national_id": pa.array(ids, pa.string()),
            "id_type": pa.array([ID_TYPES.get(country, "national_id")] * n, pa.string()),
            "name": names,
            "birth_date": pa.array(births, pa.int32()).cast(pa.date32()),
            "sex": pa.array(sex, pa.string()),
        },
        schema=PEOPLE_SCHEMA,
    )
