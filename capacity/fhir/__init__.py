"""FHIR R4 (R4B, 4.3.0) views of the picture: facilities as Locations, figures as SANER-style
bed-capacity MeasureReports, and a MeasureReport push as one more way to write figures.

``codes`` holds our code systems and their mapping to HSLOC, ``resources`` builds the resources
as plain JSON from the facility listing and the live picture, ``intake`` turns a pushed
MeasureReport into the ``CapacityUpdate`` that ``PUT .../capacity`` takes. Nothing here stores
anything of its own; the router is ``capacity/api/fhir.py``.
"""
