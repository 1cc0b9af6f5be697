"""Periodic feedback jobs. Each calls one service that is safe to run twice."""
