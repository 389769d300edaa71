"""moto's server with in-process extensions for what onboarding needs and moto 5.2 lacks.

Started by test/infra/moto.ts instead of the `moto_server` script (same arguments). Every change is
additive: behaviour moto already had is unchanged unless a test opts in with a tag.

- Lambda: LoggingConfig is stored and returned (moto drops it); switching LogFormat to JSON fills
  the default levels and back to Text clears them, as Lambda does. A function tagged
  `logferry-test:update-polls=N` reports LastUpdateStatus InProgress for the next N reads after
  each configuration update (how a real update looks while it runs).
- EKS: UpdateClusterConfig returns an `update`; DescribeUpdate and ListUpdates exist. A cluster
  tagged `logferry-test:update-polls=N` keeps each update InProgress for N DescribeUpdate reads and
  refuses another UpdateClusterConfig meanwhile (ResourceInUseException), as EKS does.
"""
import sys
import time
import uuid

from moto.awslambda import models as lambda_models
from moto.core.responses import ActionResult
from moto.eks import models as eks_models
from moto.eks import responses as eks_responses
from moto.eks import urls as eks_urls
from moto.eks.exceptions import ResourceInUseException

POLLS_TAG = "logferry-test:update-polls"

# ---- Lambda LoggingConfig ------------------------------------------------------------------
_LF = lambda_models.LambdaFunction
_orig_init = _LF.__init__
_orig_get = _LF.get_configuration
_orig_update = _LF.update_configuration


def _init(self, account_id, spec, region, version=1):  # type: ignore[no-untyped-def]
    _orig_init(self, account_id, spec, region, version)
    self._lf_logging = _normalize_logging(
        {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.function_name}"}, spec.get("LoggingConfig") or {}
    )
    self._lf_polls = 0


def _normalize_logging(current, update):  # type: ignore[no-untyped-def]
    cfg = dict(current)
    cfg.update({k: v for k, v in update.items() if v is not None})
    if cfg.get("LogFormat") == "JSON":
        cfg.setdefault("ApplicationLogLevel", "INFO")
        cfg.setdefault("SystemLogLevel", "INFO")
    else:
        cfg.pop("ApplicationLogLevel", None)
        cfg.pop("SystemLogLevel", None)
    return cfg


def _get(self, on_create=False):  # type: ignore[no-untyped-def]
    config = _orig_get(self, on_create)
    config["LoggingConfig"] = dict(getattr(self, "_lf_logging", {}))
    if getattr(self, "_lf_polls", 0) > 0 and not on_create:
        self._lf_polls -= 1
        config["LastUpdateStatus"] = "InProgress"
    return config


def _update(self, config_updates):  # type: ignore[no-untyped-def]
    if "LoggingConfig" in config_updates:
        self._lf_logging = _normalize_logging(self._lf_logging, config_updates["LoggingConfig"] or {})
    try:
        self._lf_polls = int((self.tags or {}).get(POLLS_TAG, "0"))
    except ValueError:
        self._lf_polls = 0
    result = _orig_update(self, config_updates)
    result["LoggingConfig"] = dict(self._lf_logging)
    return result


_LF.__init__ = _init
_LF.get_configuration = _get
_LF.update_configuration = _update

# ---- EKS updates ---------------------------------------------------------------------------
_Backend = eks_models.EKSBackend
_orig_ucc = _Backend.update_cluster_config


def _updates(cluster):  # type: ignore[no-untyped-def]
    if not hasattr(cluster, "_lf_updates"):
        cluster._lf_updates = {}
    return cluster._lf_updates


def _polls(cluster):  # type: ignore[no-untyped-def]
    try:
        return int((cluster.tags or {}).get(POLLS_TAG, "0"))
    except (ValueError, AttributeError):
        return 0


def _ucc(self, name, resources_vpc_config, logging=None, client_request_token=None, **kw):  # type: ignore[no-untyped-def]
    cluster = self.clusters.get(name)
    if cluster is not None:
        if any(u["status"] == "InProgress" for u in _updates(cluster).values()):
            raise ResourceInUseException(
                clusterName=name, nodegroupName=None, addonName=None, message="Cluster has an update in progress"
            )
    result = _orig_ucc(self, name, resources_vpc_config, logging, client_request_token, **kw)
    polls = _polls(result)
    update = {
        "id": str(uuid.uuid4()),
        "status": "InProgress" if polls > 0 else "Successful",
        "type": "LoggingUpdate" if logging else "EndpointAccessUpdate",
        "params": [{"type": "ClusterLogging", "value": __import__("json").dumps(logging)}] if logging else [],
        "createdAt": time.time(),
        "errors": [],
        "_polls": polls,
    }
    _updates(result)[update["id"]] = update
    result._lf_last_update = update
    return result


_Backend.update_cluster_config = _ucc


def _public(u):  # type: ignore[no-untyped-def]
    return {k: v for k, v in u.items() if not k.startswith("_")}


def _resp_ucc(self):  # type: ignore[no-untyped-def]
    name = self._get_param("name")
    cluster = self.eks_backend.update_cluster_config(
        name=name,
        resources_vpc_config=self._get_param("resourcesVpcConfig"),
        logging=self._get_param("logging"),
        client_request_token=self._get_param("clientRequestToken"),
        kubernetes_network_config=self._get_param("kubernetesNetworkConfig"),
        remote_network_config=self._get_param("remoteNetworkConfig"),
    )
    return ActionResult({"update": _public(cluster._lf_last_update)})


def _describe_update(self):  # type: ignore[no-untyped-def]
    name = self._get_param("name")
    update_id = self._get_param("updateId")
    cluster = self.eks_backend.describe_cluster(name=name)
    update = _updates(cluster).get(update_id)
    if update is None:
        from moto.eks.exceptions import ResourceNotFoundException

        raise ResourceNotFoundException(
            clusterName=name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"No update found for ID: {update_id}",
        )
    if update["status"] == "InProgress":
        update["_polls"] -= 1
        if update["_polls"] < 0:
            update["status"] = "Successful"
    return ActionResult({"update": _public(update)})


def _list_updates(self):  # type: ignore[no-untyped-def]
    name = self._get_param("name")
    cluster = self.eks_backend.describe_cluster(name=name)
    return ActionResult({"updateIds": list(_updates(cluster).keys())})


eks_responses.EKSResponse.update_cluster_config = _resp_ucc
eks_responses.EKSResponse.describe_update = _describe_update
eks_responses.EKSResponse.list_updates = _list_updates
eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/updates$"] = eks_urls.response.dispatch
eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$"] = eks_urls.response.dispatch

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
