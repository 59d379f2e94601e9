from shuangsuiji.cli.main import run

run()
