"""Endpoints for machines: /healthz for load balancers and uptime checks, /metrics for
Prometheus. No login (they show counts, never review text); they answer only for the
host names the app is served under (service/web/security.known_host), so a page on
another site cannot read them through DNS rebinding. Keep them off the public internet
like the rest of the app, or let the reverse proxy restrict them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from service import health, metrics
from service.web.deps import get_ctx
from service.web.security import known_host

router = APIRouter(dependencies=[Depends(known_host)])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    worker = request.app.state.worker
    running = None if worker is None else worker.is_running
    status, body = health.healthz(get_ctx(request), scheduler_running=running)
    return JSONResponse(body, status_code=status)


@router.get("/metrics")
def prometheus(request: Request) -> Response:
    registry: CollectorRegistry | None = getattr(request.app.state, "db_metrics", None)
    if registry is None:
        registry = request.app.state.db_metrics = CollectorRegistry(auto_describe=False)
        registry.register(health.DatabaseCollector(get_ctx(request)))
    return Response(generate_latest(metrics.REGISTRY) + generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
