import PycKitCommands

Pyckit.runMain()
