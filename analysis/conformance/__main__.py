from analysis.conformance.run import main

raise SystemExit(main())
