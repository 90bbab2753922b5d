"""``deepaas.model``, as DEEPaaS-era plugins import it."""
