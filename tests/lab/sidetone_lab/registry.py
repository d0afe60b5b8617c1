"""The services the lab knows, by name. Each module adds one `Service` subclass."""

from __future__ import annotations

import importlib

# name -> "module:Class"; imported lazily so a missing optional tool only breaks its service.
_SERVICES = {
    "ca": "ca:LabCa",
    "kamailio": "kamailio:Kamailio",
    "sipp": "sipp:Sipp",
    "baresip": "baresip:Baresip",
    "coturn": "coturn:Coturn",
    "dovecot": "dovecot:Dovecot",
    "pulse": "pulse:PulseAudio",
    "keyring": "keyring:GnomeKeyring",
    "idp": "idp:IdentityProvider",
    "dns": "dns:LabDns",
}


class _Registry(dict):
    def __missing__(self, name):
        module_name, cls_name = _SERVICES[name].split(":")
        module = importlib.import_module(f".{module_name}", __package__)
        cls = getattr(module, cls_name)
        self[name] = cls
        return cls

    def __contains__(self, name):
        return name in _SERVICES

    def __iter__(self):
        return iter(_SERVICES)


SERVICES = _Registry()
