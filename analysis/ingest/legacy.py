"""Access-log formats that were the defaults of earlier releases, still found in real clusters.

Each is compiled from its published format string by custom.py (the same parser a service.yaml
format string gets) and registered under its own name, so detection finds it without a
service.yaml. Sources: ingress-nginx's `logFormatUpstream` in
internal/ingress/controller/config/config.go as it stood before 0.26.0 (with and without the
alternative upstream), also quoted in observeinc/terraform-observe-ingress-nginx's README
("Prior to version 0.26.0"); Istio's pilot `EnvoyTextLogFormat` (1.1) and
`EnvoyTextLogFormat12` / `EnvoyTextLogFormat13` (1.2, 1.3 to 1.7), before the format Istio
1.8 made its default (envoy.py's `istio`).
"""

from __future__ import annotations

from analysis.ingest.custom import compile_format
from analysis.ingest.envoy import TCP_ENTRY
from analysis.ingest.registry import add

_NGINX_0X = ('$the_real_ip - [$the_real_ip] - $remote_user [$time_local] "$request" $status '
             '$body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time '
             "[$proxy_upstream_name] {alternative}$upstream_addr $upstream_response_length "
             "$upstream_response_time $upstream_status $req_id")
_ISTIO_HEAD = ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
               '%RESPONSE_CODE% %RESPONSE_FLAGS% "%DYNAMIC_METADATA(istio.mixer:status)%" ')
_ISTIO_TAIL = ('%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% '
               '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" '
               '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% '
               "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%")
_FAILURE = '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" '

#: name -> (dialect, format string)
LEGACY = {
    "ingress-nginx-0.x": ("nginx", _NGINX_0X.format(alternative="")),
    "ingress-nginx-0.2x": ("nginx", _NGINX_0X.format(
        alternative="[$proxy_alternative_upstream_name] ")),
    "istio-1.1": ("envoy", _ISTIO_HEAD + _ISTIO_TAIL),
    "istio-1.2": ("envoy", _ISTIO_HEAD + _FAILURE + _ISTIO_TAIL),
    "istio-1.3": ("envoy", _ISTIO_HEAD + _FAILURE + _ISTIO_TAIL + " %ROUTE_NAME%"),
}


#: detection ties (docs/formats.md, "Detection"): below every current release's default
#: format (ingress_nginx.py, envoy.py...), and among these the one listed first above wins
_PRIORITY = {name: 60 - i for i, name in enumerate(LEGACY)}


def _register() -> None:
    for name, (dialect, template) in LEGACY.items():
        fmt = compile_format(dialect, template)
        fmt.name, fmt.priority = name, _PRIORITY[name]
        if dialect == "envoy":  # `"- - -"` where the request stands: a TCP proxy's entry
            fmt.not_request_field = (1, r"^- - -$", TCP_ENTRY)
            fmt.not_request = (r'^\[[^\]]+\] "- - -" ', TCP_ENTRY)
        add(fmt)


_register()
