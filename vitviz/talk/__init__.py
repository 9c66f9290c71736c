"""The study group's talk: its slides as data (:mod:`.slides`), their pictures (:mod:`.raster`, Pillow
only) and the PowerPoint deck (:mod:`.deck`, python-pptx). The dashboard's Talk page and
``python -m vitviz talk`` show the same slides."""
from vitviz.talk.slides import ORDER, Slide, talk_slides

__all__ = ["ORDER", "Slide", "talk_slides"]
