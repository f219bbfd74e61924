from homeguard.cli.main import main

main()
