"""Hypothesis strategies shared by the robustness tests."""

from __future__ import annotations

from hypothesis import strategies as st

#: Arbitrary JSON-like values: what a mistyped manifest or a hostile client may send.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
