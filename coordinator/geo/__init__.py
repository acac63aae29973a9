"""Geography of the city: patrol zones, monitoring-centre areas and the road network.

Pure loaders and queries over plain GeoJSON data; the API shell lives in ``api.py``.
"""
