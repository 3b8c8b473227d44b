package owner

func runWorker() bool { return false }
