"""The owners' reply desk (inbox, draft editor). Filled in by the desk work."""

from fastapi import APIRouter

router = APIRouter()
