"""Deduplication across the real exports of ASReview's test data."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED
from srma.review.identify.dedup import (
    _kind,
    find_duplicates,
    journals_match,
    normalise,
    normalise_doi,
    normalise_pages,
    normalise_title,
)
from srma.review.identify.records import Record, read_records

EXPORTS = SHARED / "fixtures" / "exports"


def _record(
    title: str,
    *,
    doi: str = "",
    year: int | None = 2020,
    authors=("Smith, J",),
    volume: str = "",
    pages: str = "",
    journal: str = "",
) -> Record:
    return Record(
        title=title,
        abstract="",
        authors=tuple(authors),
        year=year,
        journal=journal,
        volume=volume,
        issue="",
        pages=pages,
        doi=doi,
        pmid="",
        keywords=(),
        type="JOUR",
        source_file="x.ris",
        source_line=1,
    )


def test_ovid_exports_of_the_same_six_papers_are_found_by_doi() -> None:
    psycinfo = read_records(EXPORTS / "ovid_psycinfo.ris").records
    zotero = read_records(EXPORTS / "ovid_zotero.ris").records
    result = find_duplicates(psycinfo + zotero)
    assert len(result.clusters) == 6 and result.duplicates_removed == 6
    assert all(len(cluster) == 2 for cluster in result.clusters)
    assert {pair.reason for pair in result.pairs} == {"same DOI"}


def test_ovid_exports_are_found_by_fuzzy_matching_without_doi_or_pmid() -> None:
    psycinfo = read_records(EXPORTS / "ovid_psycinfo.ris").records
    zotero = read_records(EXPORTS / "ovid_zotero.ris").records
    stripped = [replace(r, doi="", pmid="") for r in psycinfo + zotero]
    result = find_duplicates(stripped)
    assert result.clusters == tuple((i, i + 6) for i in range(6))
    assert all(p.decision == "duplicate" and "same first author" in p.reason for p in result.pairs)


def test_fuzzy_titles_conflicts_and_empty_titles() -> None:
    records = [
        _record("Mesenchymal stem cells for acute ischemic stroke: a randomized trial"),
        _record("Mesenchymal Stem Cells for Acute Ischaemic Stroke - a Randomised Trial."),
        _record(
            "Mesenchymal stem cells for acute ischemic stroke: a randomized trial",
            authors=("Nguyen, T",),
            volume="12",
        ),
        _record("Something else entirely about dementia care", year=None),
        _record("", year=None),
        _record("", year=None),
    ]
    result = find_duplicates(records)
    decisions = {(p.first, p.second): p for p in result.pairs}
    assert decisions[(0, 1)].decision == "duplicate"
    assert decisions[(0, 2)].decision == "review"
    assert "different first authors" in decisions[(0, 2)].reason
    assert (4, 5) not in decisions  # no titles: never a fuzzy match
    assert result.clusters == ((0, 1),)


def test_normalise() -> None:
    assert normalise("Ischémie  cérébrale: l'AVC!") == "ischemie cerebrale l avc"


def test_doi_forms() -> None:
    assert normalise_doi("https://doi.org/10.1000/ABC.12.") == "10.1000/abc.12"
    assert normalise_doi("doi: 10.1000/abc.12") == "10.1000/abc.12"
    assert normalise_doi("http://dx.doi.org/10.1000/Abc.12") == "10.1000/abc.12"
    assert normalise_doi("no doi here") == ""
    records = [
        _record("A first title about something", doi="https://doi.org/10.1000/XYZ"),
        _record("Quite another title, as exported", doi="10.1000/xyz", authors=("Other, A",)),
    ]
    result = find_duplicates(records)
    assert result.clusters == ((0, 1),)
    assert result.pairs[0].reason == "same DOI"


def test_title_normalisation() -> None:
    assert normalise_title("<i>In vivo</i> effects of X.") == "in vivo effects of x"
    assert normalise_title("Effects of \\textit{X} on {Y}") == "effects of x on y"
    assert normalise_title("[Effects of X on Y]. [Spanish]") == "effects of x on y"
    assert normalise_title("Effects of X on Y. [Review] [16 refs]") == "effects of x on y"
    assert normalise_title("Effects of X on Y [Chinese]") == normalise_title("Effects of X on Y")


def test_title_punctuation_html_and_brackets_are_duplicates() -> None:
    records = [
        _record("Ischaemic stroke in the young: a cohort study.", pages="12-19", volume="3"),
        _record("<b>Ischaemic Stroke in the Young</b> - A Cohort Study", pages="12-9", volume="3"),
        _record("[Ischaemic stroke in the young: a cohort study]. [German]", pages="12-19"),
    ]
    result = find_duplicates(records)
    assert result.clusters == ((0, 1, 2),)
    assert all(pair.decision == "duplicate" for pair in result.pairs)


def test_page_ranges() -> None:
    assert normalise_pages("123-9") == ("123", "129")
    assert normalise_pages("123-129") == ("123", "129")
    assert normalise_pages("1299-302") == ("1299", "1302")
    assert normalise_pages("e1234") == ("e1234", "e1234")
    assert normalise_pages("pp. 45\u201350") == ("45", "50")
    assert normalise_pages("01-Jun") == ("", "")  # a date a spreadsheet made of "1-6"
    a = _record("Statins after stroke", pages="123-9", volume="12", authors=("Lee, K",))
    b = _record("Statins after stroke", pages="123-129", volume="12", authors=("Lee, K. M.",))
    c = _record("Statins after stroke", pages="455-460", volume="12", authors=("Lee, K",))
    result = find_duplicates([a, b, c])
    decisions = {(p.first, p.second): p for p in result.pairs}
    assert decisions[(0, 1)].decision == "duplicate" and "same pages" in decisions[(0, 1)].reason
    assert decisions[(0, 2)].decision == "review" and "different pages" in decisions[(0, 2)].reason
    assert result.clusters == ((0, 1),)


def test_journal_abbreviations() -> None:
    assert journals_match("N Engl J Med", "New England Journal of Medicine")
    assert journals_match("New Engl J Med", "New England Journal of Medicin")
    assert journals_match("Langenbecks Arch Surg", "Langenbeck's Archives of Surgery")
    assert not journals_match("Stroke", "Neurology")
    assert not journals_match("", "Stroke")


def test_similar_titles_by_different_authors_stay_apart() -> None:
    records = [
        _record(
            "Eculizumab in atypical haemolytic uraemic syndrome: a case report",
            authors=("Garcia, M",),
            volume="25",
            pages="101-103",
        ),
        _record(
            "Eculizumab in atypical haemolytic uraemic syndrome: a case series",
            authors=("Okafor, C",),
            volume="27",
            pages="55-60",
        ),
        _record(
            "Atypical hemolytic uremic syndrome",
            authors=("Noris, M",),
            year=2009,
            volume="361",
            pages="1676-87",
        ),
        _record(
            "Atypical hemolytic-uremic syndrome",
            authors=("Kavanagh, D",),
            year=2011,
            volume="22",
            pages="900-910",
        ),
    ]
    result = find_duplicates(records)
    assert result.clusters == ()
    assert all(pair.decision != "duplicate" for pair in result.pairs)


def test_erratum_and_comment_are_not_merged_with_the_article() -> None:
    article = _record(
        "Severe deficiency of ADAMTS 13 activity in children with thrombotic microangiopathy",
        authors=("Veyradier, A",),
        volume="142",
        pages="310-317",
        journal="Journal of Pediatrics",
    )
    erratum = replace(article, title="Erratum: " + article.title, pages="616")
    correction = replace(article, title=article.title + " (vol 142, pg 310, 2003)", pages="616")
    comment = replace(article, title="Comment on: " + article.title, pages="318")
    result = find_duplicates([article, erratum, correction, comment])
    decisions = {(p.first, p.second): p for p in result.pairs}
    assert decisions[(0, 1)].decision == "review"
    assert "article and erratum" in decisions[(0, 1)].reason
    assert decisions[(0, 2)].decision == "review"
    assert all(0 not in cluster for cluster in result.clusters)
    assert not any(
        (p.first, p.second) == (0, 3) and p.decision == "duplicate" for p in result.pairs
    )


def test_kinds_of_record() -> None:
    assert _kind("Erratum: Stroke units save lives") == "erratum"
    assert _kind("Correction to: Stroke units save lives") == "erratum"
    assert _kind("Stroke units save lives (vol 12, pg 345, 2009)") == "erratum"
    assert _kind("Correction of scoliosis in adolescents") == "article"
    assert _kind("Comment on: stroke units save lives") == "comment"
    assert _kind("Re: stroke units save lives") == "comment"
    assert _kind("Re-evaluation of stroke units") == "article"
    assert _kind("Stroke units save lives. [Erratum appears in Lancet 2009]") == "article"


def test_a_review_pair_is_never_merged_through_a_chain() -> None:
    # 0 ~ 1 and 1 ~ 2 are duplicates on their own, but 0 and 2 conflict (pages): no merge of all
    records = [
        _record("Stroke units save lives", pages="10-20", volume="5", authors=("Ng, A",)),
        _record("Stroke units save lives", volume="5", authors=("Ng, A",)),
        _record("Stroke units save lives", pages="30-40", volume="5", authors=("Ng, A",)),
    ]
    result = find_duplicates(records)
    review = {(p.first, p.second) for p in result.to_review()}
    assert (0, 2) in review
    assert not any({0, 2} <= set(cluster) for cluster in result.clusters)
    assert result.duplicates_removed == 1


_WORDS = st.sampled_from(
    [
        "stroke",
        "aspirin",
        "trial",
        "cohort",
        "outcome",
        "patients",
        "therapy",
        "randomised",
        "risk",
        "brain",
        "blood",
        "pressure",
        "dementia",
        "rehabilitation",
        "memory",
        "elderly",
        "women",
        "children",
    ]
)


def _perturb(title: str, data: st.DataObject) -> str:
    words = title.split(" ")
    out = []
    for word in words:
        word = data.draw(st.sampled_from([word, word.upper(), word.title(), word.lower()]))
        out.append(word + data.draw(st.sampled_from(["", ",", ":", ".", " -", ";"])))
    spaces = data.draw(st.sampled_from([" ", "  ", " \t", "\n"]))
    return (
        data.draw(st.sampled_from(["", " ", "\t"]))
        + spaces.join(out)
        + data.draw(st.sampled_from(["", ".", " .", "?"]))
    )


_RECORDS = st.builds(
    lambda words, note, surname, year, volume, first, length: _record(
        note[0] + " ".join(words) + note[1],
        authors=(f"{surname}, A",),
        year=year,
        volume=str(volume),
        pages=f"{first}-{first + length}",
    ),
    st.lists(_WORDS, min_size=3, max_size=9),
    st.sampled_from(  # notes that make an erratum or a comment must survive the perturbation
        [("", ""), ("Erratum: ", ""), ("Comment on ", ""), ("", " (vol 12, pg 345, 2009)")]
    ),
    st.sampled_from(["Smith", "Nguyen", "Okafor", "Garcia", "Lee", "Kowalski"]),
    st.integers(1990, 2024),
    st.integers(1, 60),
    st.integers(1, 2000),
    st.integers(0, 15),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_RECORDS, min_size=1, max_size=12), st.data())
def test_a_perturbed_copy_is_always_found(records: list[Record], data: st.DataObject) -> None:
    chosen = data.draw(st.integers(0, len(records) - 1))
    copy = replace(records[chosen], title=_perturb(records[chosen].title, data))
    everything = [*records, copy]
    result = find_duplicates(everything)
    copy_index = len(everything) - 1
    assert any({chosen, copy_index} <= set(cluster) for cluster in result.clusters)
    flat = [i for cluster in result.clusters for i in cluster]
    assert len(flat) == len(set(flat))  # clusters partition the records
    assert set(flat) <= set(range(len(everything)))  # and no record is lost or invented
    assert all(list(cluster) == sorted(cluster) and len(cluster) > 1 for cluster in result.clusters)
    assert result.duplicates_removed == len(flat) - len(result.clusters)
    cluster_of = {i: n for n, cluster in enumerate(result.clusters) for i in cluster}
    for pair in result.to_review():  # pairs that need review are never merged
        assert cluster_of.get(pair.first, -1) != cluster_of.get(pair.second, -2)
