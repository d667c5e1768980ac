"""Builds the requirement catalog as data: every ID with its one-line statement and the
infrastructure guide(s) it comes from, so reports and errors quote it from inside the clone.

Config waivers, policies and reports name these IDs; an ID that is not listed here is
rejected wherever it appears, so a typo cannot waive anything. `REQUIREMENTS` maps ID to
statement (what most code needs); `CATALOG` adds the sources; `describe(id)` is the line the
report, SARIF and config errors print.

Sources are the five guides the requirements were drawn from (`GUIDES`, numbered as in the
requirements document's `seeds/`). Where that document's sizing table has a "source" column
the numbers are copied from it (zones, NAT, replicas, sizes, backups, HA, cache, log
retention, budget) and the optional components keep the guides it names in brackets; for the
rest they are the guides that discuss the topic. An empty tuple means no guide asks for it:
the requirement is this project's own baseline (the DEPLOY family, tagging, flow logs, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

REQUIREMENTS: dict[str, str] = {
    "NET-1": "Dedicated network with public, private-app and private-data subnets over the zones.",
    "NET-2": "Database and cache have no public endpoint; reachable only from the app tier.",
    "NET-3": "Ingress is whitelisted: 443/80 to the load balancer, then app, 5432 and 6379 only.",
    "NET-4": "Flow logs on, kept for the environment's log retention.",
    "EDGE-1": "HTTPS with a TLS 1.2+ policy; HTTP only redirects.",
    "EDGE-2": "Web application firewall with managed common rules and a per-IP rate limit.",
    "EDGE-3": "Load balancer access logs on; invalid headers dropped.",
    "EDGE-4": "Health check GET /health, 10 s readiness, 30 s liveness and draining.",
    "APP-1": "Replica bounds and autoscale triggers per environment.",
    "APP-2": "Container CPU and memory per environment.",
    "APP-3": "Rolling deployments with zero downtime.",
    "APP-4": "Secrets reach the app only by reference to the secrets manager.",
    "APP-5": "The app runs under its own least-privilege identity.",
    "APP-6": "Private container registry with scan on push and immutable tags.",
    "APP-7": "The app is described in config: services, routes, environment, secrets read.",
    "DB-1": "Managed PostgreSQL, major version 15 or later.",
    "DB-2": "Database encrypted at rest; production with a customer-managed key.",
    "DB-3": "Database connections require TLS.",
    "DB-4": "Automated backups with the environment's retention; PITR in staging and production.",
    "DB-5": "Production database is highly available with one read replica.",
    "DB-6": "Database connection pooling.",
    "DB-7": "Staging and production: deletion protection, final snapshot, prevent_destroy.",
    "DB-8": "Connection, disconnection and slow-query logging; query insights on.",
    "DB-9": "Database credentials live in the secrets manager, never in configuration.",
    "CACHE-1": "Redis with TLS in transit, encryption at rest and authentication.",
    "CACHE-2": "Cache size, allkeys-lru eviction, production replication with failover.",
    "CACHE-3": "Cache on the private network only.",
    "OBJ-1": "Object storage blocks all public access.",
    "OBJ-2": "Object storage encrypted at rest; production with a customer-managed key.",
    "OBJ-3": "Versioning on; noncurrent versions expire at 90 days, uploads abort at 7.",
    "OBJ-4": "Production object storage replicated to a second region.",
    "OBJ-5": "Object storage accepts TLS only.",
    "OBJ-6": "Object storage access logging.",
    "SEC-1": "JWT_SECRET, DATABASE_URL, DATABASE_PASSWORD in the secrets manager with the env key.",
    "SEC-2": "Secrets rotate at least every 90 days.",
    "SEC-3": "No secret value in the synthesized JSON or the repository.",
    "SEC-4": "Customer-managed keys rotate; Key Vault has soft delete and purge protection.",
    "SEC-5": "Secrets are declared in config by name and kind; no code names an app's secret.",
    "OBS-1": "Central logs retained per environment and encrypted.",
    "OBS-2": "Alerts for failed logins, 5xx rate, DB connection errors, p95 latency, CPU, memory.",
    "OBS-3": "Alerts go to a notification channel addressed from the environment config.",
    "OBS-4": "External uptime check on /health.",
    "OBS-5": "Dashboard with response times, error rates and throughput.",
    "COST-1": "Monthly budget notifying at 80 % forecast and 100 % actual.",
    "STATE-1": "Each environment's state backend is set in its config.",
    "STATE-2": "A bootstrap stack per cloud creates versioned, encrypted, private state storage.",
    "TAG-1": "Every taggable resource carries app, environment, managed-by, owner, cost-center.",
    "IAM-1": "No wildcard-action or admin policies; every identity is least privilege.",
    "AUTH-1": "Optional user identity service with a 12+ character password policy and MFA.",
    "CDN-1": "Optional CDN in front of the load balancer.",
    "DNS-1": "Optional DNS zone and managed certificate for the environment's domain.",
    "DEPLOY-1": "Every name fits its cloud's length and character rules at the longest names.",
    "DEPLOY-2": "Whatever a resource needs (API, identity, key grant, network path) exists first.",
    "DEPLOY-3": "The documented deploy runner reaches every data plane the apply writes.",
    "DEPLOY-4": "No feature, SKU, tier, region or provider-version combination the cloud refuses.",
    "DEPLOY-5": "Nothing waits for what nobody creates; the first apply completes unaided.",
    "DEPLOY-6": "After the apply the app works: own DB role, verifiable TLS, real secrets, logs.",
}

GUIDES: dict[str, str] = {
    "000": "Infrastructure Provisioning Guide (Client Timesheet Application)",
    "001": "Infrastructure Documentation (Company Directory application)",
    "002": "Infrastructure Guide (architecture, environments and costs)",
    "003": "Production Infrastructure Setup Guide (Desktop CRM MVP)",
    "004": "Infrastructure Provisioning (backend scripts and configurations)",
}

SOURCES: dict[str, tuple[str, ...]] = {
    "NET-1": ("001", "002", "004"),
    "NET-2": ("002",),
    "NET-3": ("001", "002", "004"),
    "NET-4": (),
    "EDGE-1": ("001", "003"),
    "EDGE-2": ("001", "003"),
    "EDGE-3": ("001", "003"),
    "EDGE-4": ("000", "003"),
    "APP-1": ("000",),
    "APP-2": ("000",),
    "APP-3": ("000", "002"),
    "APP-4": ("000", "003"),
    "APP-5": ("001", "004"),
    "APP-6": ("000", "001"),
    "APP-7": ("000", "001", "002", "003", "004"),
    "DB-1": ("000", "001", "002", "003"),
    "DB-2": ("001",),
    "DB-3": ("001",),
    "DB-4": ("000", "001"),
    "DB-5": ("000", "001", "002"),
    "DB-6": ("001", "003"),
    "DB-7": (),
    "DB-8": (),
    "DB-9": ("000", "004"),
    "CACHE-1": ("001", "002"),
    "CACHE-2": ("000", "002"),
    "CACHE-3": ("001", "002"),
    "OBJ-1": (),
    "OBJ-2": ("001",),
    "OBJ-3": ("001",),
    "OBJ-4": ("001",),
    "OBJ-5": ("001",),
    "OBJ-6": ("001",),
    "SEC-1": ("000", "003"),
    "SEC-2": ("000",),
    "SEC-3": ("000", "003"),
    "SEC-4": ("000",),
    "SEC-5": ("000", "001", "002", "003", "004"),
    "OBS-1": ("000",),
    "OBS-2": ("000", "003"),
    "OBS-3": ("003",),
    "OBS-4": ("002", "003"),
    "OBS-5": ("001", "003"),
    "COST-1": ("002", "003"),
    "STATE-1": ("001", "002", "004"),
    "STATE-2": ("001", "002", "004"),
    "TAG-1": (),
    "IAM-1": ("001", "004"),
    "AUTH-1": ("004",),
    "CDN-1": ("001", "002"),
    "DNS-1": ("001",),
    "DEPLOY-1": (),
    "DEPLOY-2": (),
    "DEPLOY-3": (),
    "DEPLOY-4": (),
    "DEPLOY-5": (),
    "DEPLOY-6": (),
}


@dataclass(frozen=True)
class Requirement:
    """One row of the catalog."""

    id: str
    statement: str
    sources: tuple[str, ...]

    @property
    def source_text(self) -> str:
        if not self.sources:
            return "project baseline, no guide asks for it"
        return (
            "guide " + ", ".join(self.sources)
            if len(self.sources) == 1
            else ("guides " + ", ".join(self.sources))
        )


CATALOG: dict[str, Requirement] = {
    rid: Requirement(rid, statement, SOURCES[rid]) for rid, statement in REQUIREMENTS.items()
}


def describe(requirement: str) -> str:
    """`DB-4: <statement> (guides 000, 001)`, or the bare ID if it is not in the catalog."""
    entry = CATALOG.get(requirement)
    if entry is None:
        return requirement
    return f"{entry.id}: {entry.statement} ({entry.source_text})"
