from ackflow.cli.main import cli

cli()
