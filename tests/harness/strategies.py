"""Hypothesis strategies for what arrives from outside: arbitrary JSON values, GeoJSON-ish
feature collections."""

from __future__ import annotations

from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
features = st.fixed_dictionaries(
    {
        "type": st.just("Feature"),
        "properties": st.dictionaries(
            st.sampled_from(["id", "kind", "highway", "oneway", "maxspeed", "name"]),
            json_values,
            max_size=4,
        ),
        "geometry": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Polygon", "LineString", "MultiPolygon", "Point"]),
                "coordinates": json_values,
            }
        )
        | json_values,
    }
)
collections = (
    st.fixed_dictionaries(
        {"type": st.just("FeatureCollection"), "features": st.lists(features, max_size=4)}
    )
    | json_values
)
