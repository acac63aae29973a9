"""Requests that need a second person: kinds, pending → approved / rejected / expired /
withdrawn, emergency grants with after-the-fact review, every step audited."""
