"""Turn exercise programs into hands-free, voice-guided audio sessions."""

__version__ = "0.1.0"
