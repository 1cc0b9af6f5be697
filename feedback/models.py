"""Surveys (NPS, CSAT), invitations, responses, product reviews and support feedback records.

Models arrive with the feedback issue.
"""
