module tokend.example/mint

go 1.19
