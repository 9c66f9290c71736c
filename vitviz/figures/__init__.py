"""Drawing, no Streamlit: plotly figure builders, the raster pictures (maps, heads, the matrix view,
the distance PNG), the paper's figures, the paper's reported numbers and the standalone HTML report.
"""
