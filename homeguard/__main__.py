from homeguard.cli import main

main()
