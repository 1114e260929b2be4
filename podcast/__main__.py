from podcast.cli import main

raise SystemExit(main())
