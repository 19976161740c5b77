"""neft: Negative Feedback Training (OVF, IRS) against NVCIM device variation, and its baselines."""

__version__ = "0.1.0"
