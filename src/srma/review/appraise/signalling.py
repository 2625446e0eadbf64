"""Signalling questions: their answers, and which of them are asked given earlier answers.

A risk-of-bias tool asks *signalling questions* whose answers lead to a
judgement.  RoB 2 and ROBINS-I answer them ``Y`` (yes), ``PY`` (probably yes),
``PN`` (probably no), ``N`` (no) or ``NI`` (no information); a question that
is asked only after certain answers to earlier ones (RoB 2's "2.4 If Y/PY to
2.3: ...") is *not applicable* (``NA``) otherwise (Higgins et al. 2019, RoB 2
guidance, section 1.2; Sterne et al. 2016, ROBINS-I).  QUADAS-2 and SYRCLE
answer yes, no or unclear.

A :class:`Question` carries its condition as data (:class:`When`,
:class:`AllOf`, :class:`AnyOf`) and the condition as the source prints it, so
that a form can show it and an error can quote it.  A condition is read
literally: "Y/PY to 2.3" is met by ``Y`` or ``PY`` and by nothing else, so an
``NI`` to 2.3 leaves 2.4 not applicable, as the RoB 2 flowchart routes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from srma.errors import InputError

#: RoB 2 and ROBINS-I answers (Higgins et al. 2019; Sterne et al. 2016).
Y, PY, PN, N, NI, NA = "Y", "PY", "PN", "N", "NI", "NA"
YES_NO = (Y, PY, PN, N)
YES_NO_NI = (Y, PY, PN, N, NI)
#: QUADAS-2 (Whiting et al. 2011) and SYRCLE (Hooijmans et al. 2014) answers.
YES, NO, UNCLEAR = "Yes", "No", "Unclear"
YES_NO_UNCLEAR = (YES, NO, UNCLEAR)

#: Words read as an answer code (matched without regard to case).
_SPELLINGS = {
    "y": Y,
    "yes": Y,
    "py": PY,
    "probably yes": PY,
    "pn": PN,
    "probably no": PN,
    "n": N,
    "no": N,
    "ni": NI,
    "no information": NI,
    "na": NA,
    "n/a": NA,
    "not applicable": NA,
    "unclear": UNCLEAR,
    "u": UNCLEAR,
}


def canonical_answer(value: object, allowed: tuple[str, ...]) -> str | None:
    """The answer code ``value`` stands for among ``allowed`` (and ``NA``), or None.

    ``Yes``/``Y``/``yes`` all read as ``Y`` where the codes are RoB 2's and as
    ``Yes`` where they are QUADAS-2's; an empty cell is no answer (None).
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    code = _SPELLINGS.get(text.lower(), text)
    if code == Y and Y not in allowed and YES in allowed:
        code = YES
    if code == N and N not in allowed and NO in allowed:
        code = NO
    for option in (*allowed, NA):
        if code.lower() == option.lower():
            return option
    return text


class AnswerError(InputError):
    """A problem with the answer to one signalling question: ``question`` is its id (a
    form names the cell it came from)."""

    def __init__(self, message: str, *, question: str) -> None:
        super().__init__(message)
        self.question = question


@dataclass(frozen=True)
class When:
    """Met when ``question`` was answered one of ``answers``."""

    question: str
    answers: frozenset[str]

    def met(self, answers: Mapping[str, str]) -> bool:
        return answers.get(self.question) in self.answers

    def questions(self) -> tuple[str, ...]:
        return (self.question,)


@dataclass(frozen=True)
class AllOf:
    """Met when every part is met ("N/PN/NI to 4.1 and 4.2")."""

    parts: tuple[When | AllOf | AnyOf, ...]

    def met(self, answers: Mapping[str, str]) -> bool:
        return all(part.met(answers) for part in self.parts)

    def questions(self) -> tuple[str, ...]:
        return tuple(q for part in self.parts for q in part.questions())


@dataclass(frozen=True)
class AnyOf:
    """Met when at least one part is met ("Y/PY/NI to 2.1 or 2.2")."""

    parts: tuple[When | AllOf | AnyOf, ...]

    def met(self, answers: Mapping[str, str]) -> bool:
        return any(part.met(answers) for part in self.parts)

    def questions(self) -> tuple[str, ...]:
        return tuple(q for part in self.parts for q in part.questions())


Condition = When | AllOf | AnyOf


def when(answers: str, *questions: str, any_of: bool = True) -> Condition:
    """``when("Y/PY/NI", "2.1", "2.2")``: answered Y, PY or NI to 2.1 or (``any_of``) 2.2."""
    codes = frozenset(answers.split("/"))
    parts = tuple(When(q, codes) for q in questions)
    if len(parts) == 1:
        return parts[0]
    return AnyOf(parts) if any_of else AllOf(parts)


@dataclass(frozen=True)
class Question:
    """A signalling question as its source numbers and words it.

    ``answers`` are the substantive answers (never ``NA``).  A question with a
    ``condition`` is asked only when the condition is met and is ``NA``
    otherwise; ``condition_text`` is the condition as printed ("If Y/PY to
    2.3").  ``na_allowed`` marks RoB 2's "[If applicable:]" questions, which
    may be answered ``NA`` even when asked (when the review's preliminary
    considerations leave them out).  ``required`` is False where the source
    offers the questions only to assist judgement (SYRCLE).
    """

    id: str
    text: str
    answers: tuple[str, ...] = YES_NO_NI
    condition: Condition | None = None
    condition_text: str | None = None
    na_allowed: bool = False
    required: bool = True

    def asked(self, answers: Mapping[str, str]) -> bool:
        """Whether the question applies, given the answers to earlier questions."""
        return self.condition is None or self.condition.met(answers)

    @property
    def wording(self) -> str:
        """The question as printed: its number, its condition and its text."""
        applicable = "[If applicable:] " if self.na_allowed else ""
        prefix = f"{self.condition_text}: " if self.condition_text else ""
        return f"{self.id} {applicable}{prefix}{self.text}"


def _lower(text: str | None) -> str:
    """A condition as printed ("If Y/PY to 2.3") inside a sentence ("if Y/PY to 2.3")."""
    return text[:1].lower() + text[1:] if text else ""


def _earlier(question: Question, read: Mapping[str, str]) -> str:
    """The answers the question's condition reads: "2.3 is N"."""
    names = dict.fromkeys(question.condition.questions()) if question.condition else {}
    return ", ".join(f"{name} is {read.get(name, NA)}" for name in names)


def _because(question: Question, read: Mapping[str, str]) -> str:
    if question.condition is None:
        return ""
    return f" ({_lower(question.condition_text)}: {_earlier(question, read)})"


def _expected(question: Question, *, asked: bool) -> str:
    options = "/".join(question.answers)
    if not asked:
        return f"no answer or NA (or, were it asked, {options})"
    return options + ("/NA" if question.na_allowed or not question.required else "")


def read_answers(
    questions: tuple[Question, ...], answers: Mapping[str, object], *, where: str
) -> dict[str, str]:
    """Check ``answers`` against ``questions`` in order; every question gets a code or ``NA``.

    Raises :class:`AnswerError` (an :class:`InputError` that holds the question's id)
    for an unknown question, an answer outside the allowed set, a missing answer to a
    question that is asked, or a substantive answer to a question that is not asked (its
    condition is not met).  ``where`` names the tool and domain in messages.
    """
    known = {q.id for q in questions}
    unknown = [key for key in answers if str(key) not in known]
    if unknown:
        raise AnswerError(
            f"{where}: unknown signalling question {unknown[0]!r}; "
            f"expected one of {', '.join(q.id for q in questions)}",
            question=str(unknown[0]),
        )
    given = {str(key): value for key, value in answers.items()}
    read: dict[str, str] = {}
    for question in questions:
        code = canonical_answer(given.get(question.id), question.answers)
        if code is not None and code != NA and code not in question.answers:
            raise AnswerError(
                f"{where}: question {question.id} is answered {given[question.id]!r}; "
                f"expected {_expected(question, asked=question.asked(read))}",
                question=question.id,
            )
        if question.asked(read):
            if code is None and question.required:
                raise AnswerError(
                    f"{where}: question {question.id} is not answered, and it is asked"
                    f"{_because(question, read)}; expected {_expected(question, asked=True)}",
                    question=question.id,
                )
            if code == NA and question.required and not question.na_allowed:
                raise AnswerError(
                    f"{where}: question {question.id} is answered NA, but it is asked"
                    f"{_because(question, read)}; expected {_expected(question, asked=True)}",
                    question=question.id,
                )
            code = NA if code is None else code
        elif code not in (None, NA):
            raise AnswerError(
                f"{where}: question {question.id} is answered {given[question.id]!r}, but it "
                f"is asked only {_lower(question.condition_text)} ({_earlier(question, read)}); "
                "expected no answer or NA",
                question=question.id,
            )
        else:
            code = NA
        read[question.id] = code
    return read
