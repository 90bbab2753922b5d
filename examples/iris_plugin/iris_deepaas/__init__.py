"""An SVM on the IRIS data set, as a deepaas-lite (and DEEPaaS 2.x) model plugin.

The plugin itself is the module :mod:`iris_deepaas.plugin`, registered as the entry
point ``iris-deepaas`` of the group ``deepaas.v2.model``.
"""
