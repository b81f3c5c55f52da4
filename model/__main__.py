from model.cli.commands import main

main()
