"""Name pools for Kota Contoh: streets, kelurahan, kecamatan, landmarks, callers.

Everything is fictional but shaped like a Javanese north-coast city, so that the
geocoder, the search box and the screenshots look like the real thing.  The
pools are plain tuples: the generator only ever indexes them with its seeded
random generator, so changing a pool changes the city (documented in the
manifest's ``generator_version``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CITY_NAME = "Kota Contoh"
# Kemendagri-style codes: 33 = Jawa Tengah, 99 = a kota code no real city uses.
REGION_CODE = "33.99"

HEROES = (
    "Pemuda", "Pahlawan", "Diponegoro", "Jenderal Sudirman", "Gajah Mada", "Ahmad Yani", "Imam Bonjol",
    "Pandanaran", "Siliwangi", "Majapahit", "Hasanuddin", "Teuku Umar", "Sultan Agung", "Kartini",
    "Dr. Cipto", "MT Haryono", "Gatot Subroto", "Slamet Riyadi", "Dr. Sutomo", "Pattimura", "Yos Sudarso",
    "Kolonel Sugiyono", "Sisingamangaraja", "Pangeran Antasari", "Cut Nyak Dien", "Hayam Wuruk",
    "Brigjen Katamso", "Mataram", "Veteran", "Merdeka", "Letjen Suprapto", "Raden Patah",
    "Ki Hajar Dewantara", "Tentara Pelajar", "Dr. Wahidin", "Untung Suropati", "Trunojoyo", "Sriwijaya",
    "Pierre Tendean", "Kapten Tendean", "Dewi Sartika", "Wolter Monginsidi", "Supriyadi", "Urip Sumoharjo",
    "Sam Ratulangi", "Agus Salim", "Moh. Hatta", "Sutan Syahrir", "Juanda", "Adisucipto",
)
MOUNTAINS_ISLANDS = (
    "Merapi", "Merbabu", "Ungaran", "Sindoro", "Sumbing", "Lawu", "Slamet", "Muria", "Semeru", "Bromo",
    "Kelud", "Arjuno", "Rinjani", "Kerinci", "Papandayan", "Sumbawa", "Lombok", "Flores", "Sulawesi",
    "Kalimantan", "Madura", "Bali", "Ambon", "Halmahera", "Seram", "Bangka", "Belitung", "Nias", "Natuna",
    "Karimunjawa", "Bawean", "Timor", "Sumba", "Alor", "Buton", "Selayar", "Mentawai", "Enggano", "Batam",
    "Bintan", "Riau", "Jambi", "Bengkulu", "Palembang", "Lampung", "Banten", "Cirebon", "Pekalongan", "Kudus",
)
THEMES = (
    # flowers
    "Melati", "Mawar", "Kenanga", "Cempaka", "Anggrek", "Dahlia", "Flamboyan", "Bougenville", "Teratai",
    "Seruni", "Kamboja", "Tulip", "Sakura", "Asoka", "Nusa Indah", "Soka", "Sedap Malam", "Kemuning",
    # trees and fruit
    "Jati", "Mahoni", "Cendana", "Beringin", "Asem", "Randu", "Waru", "Bambu", "Kelapa", "Pinang", "Duku",
    "Durian", "Rambutan", "Mangga", "Nangka", "Sawo", "Jambu", "Manggis", "Salak", "Srikaya", "Belimbing",
    "Delima", "Kedondong", "Sukun", "Kepundung", "Kemiri", "Pala", "Cengkeh", "Lada", "Kayu Manis",
    # birds
    "Merpati", "Kutilang", "Cendrawasih", "Kenari", "Perkutut", "Jalak", "Nuri", "Kakatua", "Rajawali",
    "Elang", "Garuda", "Camar", "Bangau", "Belibis", "Kepodang", "Murai", "Prenjak", "Pipit",
    # gems and metals
    "Intan", "Berlian", "Mutiara", "Zamrud", "Delima Merah", "Safir", "Pirus", "Kencana", "Perak",
    "Tembaga", "Kuningan", "Akik", "Giok",
    # wayang
    "Arjuna", "Bima", "Yudistira", "Nakula", "Sadewa", "Srikandi", "Gatotkaca", "Abimanyu", "Semar",
    "Gareng", "Petruk", "Bagong", "Kresna", "Baladewa", "Anoman", "Rama", "Shinta", "Wisanggeni",
    # rivers and lakes
    "Citarum", "Cisadane", "Brantas", "Bengawan", "Serayu", "Progo", "Opak", "Kapuas", "Mahakam",
    "Barito", "Musi", "Batanghari", "Siak", "Toba", "Singkarak", "Maninjau", "Sentani", "Poso", "Tempe",
    # misc kampung themes
    "Sentosa", "Sejahtera", "Damai", "Rukun", "Makmur", "Harapan", "Mulia", "Bahagia", "Karya", "Bakti",
    "Usaha", "Sehati", "Setia", "Tunas", "Pelita", "Purnama", "Bintang", "Surya", "Candra", "Pelangi",
)
THEME_SUFFIXES = ("", " Utara", " Selatan", " Timur", " Barat", " Baru", " Indah", " Asri", " Permai", " Jaya")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

KEL_SINGLE = (
    "Kauman", "Pecinan", "Pleburan", "Gabahan", "Pekunden", "Sekayu", "Jagalan", "Purwodinatan",
    "Kranggan", "Miroto", "Bangunharjo", "Kembangsari", "Pandansari", "Bugangan", "Kemijen", "Rejomulyo",
    "Mlatiharjo", "Sarirejo", "Kuningan", "Panggung", "Dadapsari", "Bandarharjo", "Jomblang", "Lamper",
    "Peterongan", "Wonodri", "Randusari", "Karangkidul", "Pindrikan", "Bulustalan", "Barusari", "Mugassari",
)
KEL_PREFIX = (
    "Tanjung", "Kebon", "Karang", "Sumber", "Bandar", "Kali", "Sido", "Tegal", "Jati", "Ngemplak", "Pondok",
    "Gunung", "Banyu", "Purwo", "Wono", "Mangun", "Suka", "Sari", "Krajan", "Pandean", "Kembang", "Tambak",
    "Muara", "Sawah",
)
KEL_SUFFIX = (
    "Mas", "Agung", "Sari", "Rejo", "Harjo", "Kidul", "Lor", "Wetan", "Kulon", "Baru", "Anyar", "Jati",
    "Asri", "Mulyo", "Wangi", "Tengah", "Indah", "Dadi", "Makmur", "Asih", "Arum", "Lestari", "Jaya",
)
KEC_EXTRA = ("Pelabuhan", "Candisari", "Gayamsari", "Tugu", "Banyumanik", "Pedurungan", "Genuk")

MOSQUES = (
    "Al-Ikhlas", "Baiturrahman", "Al-Huda", "Nurul Iman", "At-Taqwa", "Al-Falah", "Baitussalam",
    "Al-Muttaqin", "Darussalam", "Al-Hidayah", "Al-Amin", "Nurul Huda", "Ar-Rahman", "Al-Furqon",
)
HOSPITALS = (
    "RSUD Kota Contoh", "RS Islam Sultan Agung Contoh", "RS Bhayangkara Contoh", "RS Panti Wilasa",
    "RS Telogo Asri", "RS Roemani Contoh", "RS Santa Elisabeth Contoh", "RSIA Bunda Contoh",
    "RS Permata Medika", "RS Hermina Contoh", "RS Columbia Asia Contoh", "RS Tentara Contoh",
)

GIVEN = (
    "Budi", "Siti", "Agus", "Dewi", "Slamet", "Sri", "Wahyu", "Rina", "Joko", "Ani", "Bambang", "Endang",
    "Eko", "Yuni", "Hendra", "Wati", "Rudi", "Lestari", "Teguh", "Nur", "Dwi", "Tri", "Ahmad", "Fitri",
    "Bayu", "Indah", "Dedi", "Ratna", "Arif", "Suryani", "Heru", "Kartika", "Yusuf", "Putri", "Rizki",
    "Ayu", "Imam", "Novi", "Fajar", "Lina", "Hadi", "Sari", "Anton", "Mega", "Dimas", "Tuti", "Sugeng",
    "Murni", "Yanto", "Retno",
)
FAMILY = (
    "Santoso", "Wibowo", "Lestari", "Hidayat", "Setiawan", "Nugroho", "Rahayu", "Kurniawan", "Saputra",
    "Susanto", "Wijaya", "Purnomo", "Hartono", "Prasetyo", "Utomo", "Suharto", "Sulistyo", "Permana",
    "Handayani", "Puspita", "Pratama", "Wulandari", "Firmansyah", "Ramadhan", "Kusuma", "Gunawan",
)
# Indonesian mobile prefixes after +62 (Telkomsel, Indosat, XL, Tri, Smartfren).
MOBILE_PREFIXES = (
    "811", "812", "813", "821", "822", "823", "852", "853", "851", "814", "815", "816", "855", "856",
    "857", "858", "817", "818", "819", "859", "877", "878", "895", "896", "897", "898", "899", "881",
)


def unique_names(pool: Sequence[str], n: int, rng: np.random.Generator,
                 suffixes: Sequence[str] = ("", " Baru", " Timur", " Barat", " Raya", " Indah")) -> list[str]:
    """``n`` distinct names from ``pool``, extended with suffixes when the pool is too small.

    Distinct names matter for the geocoder: two "Jl. Melati I" in one city
    would make a caller's address ambiguous.
    """
    out: list[str] = []
    for suffix in suffixes:
        order = rng.permutation(len(pool))
        out.extend(pool[i] + suffix for i in order)
        if len(out) >= n:
            return out[:n]
    k = len(out)
    return out + [f"{pool[i % len(pool)]} {i // len(pool) + 2}" for i in range(k, n)]


def kelurahan_names(n: int, rng: np.random.Generator) -> list[str]:
    """Distinct kelurahan names: some classic single words, the rest prefix + suffix pairs."""
    combos = [f"{p} {s}" for p in KEL_PREFIX for s in KEL_SUFFIX]
    singles = [KEL_SINGLE[i] for i in rng.permutation(len(KEL_SINGLE))]
    pairs = [combos[i] for i in rng.permutation(len(combos))]
    take_single = min(len(singles), n // 3)
    names = singles[:take_single] + pairs[: n - take_single]
    return [names[i] for i in rng.permutation(len(names))]


def roman(i: int) -> str:
    """Roman numeral for the i-th (1-based) local street of a neighbourhood; falls back to digits."""
    return ROMAN[i - 1] if 1 <= i <= len(ROMAN) else str(i)


def person_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """Caller names, about 60% with a family name (many Javanese use one name only)."""
    given = np.asarray(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    family = np.asarray(FAMILY, dtype=object)[rng.integers(0, len(FAMILY), n)]
    has_family = rng.random(n) < 0.6
    return np.where(has_family, given + " " + family, given)


def phone_numbers(n: int, rng: np.random.Generator) -> np.ndarray:
    """Fake Indonesian mobile numbers in E.164 (+62 8xx...), 11 to 13 digits after +62."""
    prefix = np.asarray(MOBILE_PREFIXES, dtype=object)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    digits = rng.integers(7, 9, n)
    body = rng.integers(0, 10**8, n)
    rest = np.array([str(b).zfill(8)[:d] for b, d in zip(body.tolist(), digits.tolist(), strict=True)],
                    dtype=object)
    return "+62" + prefix + rest
