"""GB 32100-2015 统一社会信用代码: check character, alphabet, normalisation."""

from hypothesis import given
from hypothesis import strategies as st

from shuangsuiji.domain import uscc

VALID = ["91350100M000100Y43", "91512081MA62K0260E", "914403001922038216"]


def test_published_codes_are_valid():
    for code in VALID:
        assert uscc.problem(code) is None


def test_each_kind_of_mistake_is_named():
    assert uscc.problem("91350100M000100Y44") == "check_digit"
    assert uscc.problem("91350100M000100Y4") == "length"
    assert uscc.problem("9135010OM000100Y43") == "alphabet"  # letter O is not in the alphabet
    assert uscc.problem("91350100M000100YI3") == "alphabet"


def test_full_width_spaces_and_lower_case_are_normalised():
    assert uscc.normalise(" ９１３５０１００ｍ０００１００ｙ４３\u3000") == "91350100M000100Y43"
    assert uscc.normalise("91512081ma62k0260e") == "91512081MA62K0260E"


def test_weights_are_the_standard_ones():
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


first17 = st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17)


@given(first17)
def test_made_codes_are_valid_and_any_other_check_char_is_not(body):
    code = uscc.make(body)
    assert uscc.is_valid(code)
    for other in uscc.ALPHABET:
        if other != code[17]:
            assert uscc.problem(body + other) == "check_digit"


@given(st.lists(st.one_of(first17.map(uscc.make), first17, st.text(max_size=20)), max_size=30))
def test_vectorised_check_agrees_with_the_per_code_check(codes):
    mask = uscc.valid_mask(codes)
    for code, ok in zip(codes, mask):
        if ok:
            assert uscc.is_valid(code)
        elif len(code) == 18 and code.isascii():
            assert not uscc.is_valid(code)
