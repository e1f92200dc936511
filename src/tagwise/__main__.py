from tagwise.cli import main

main()
