"""The marketers' dashboard. Filled in by the trends work."""

from fastapi import APIRouter

router = APIRouter()
