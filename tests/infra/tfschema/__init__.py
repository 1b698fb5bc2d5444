"""Schema-only stand-ins of the hashicorp/google and hashicorp/archive providers, so that
`terraform validate` of infra/terraform runs where the registry cannot be reached.

``assembly`` reads a cdktf prebuilt provider wheel, ``javascript`` its generated code, ``rebuild``
turns both into the provider's schema (cached), ``plugin`` serves that schema to Terraform, and
``mirror`` installs the plugin where ``terraform init`` finds it. See docs/deploy.md.
"""
