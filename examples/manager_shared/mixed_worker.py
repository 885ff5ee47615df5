# Python side of examples/manager_shared/mixed.ts: the tutorial's Foo(), run
# by a plain CPython process against the weft Manager. It connects with
# multiprocessing's own BaseManager and finds the shared dict and list by
# the names the weft program gave them. The address and authkey arrive as
# one JSON line on stdin (never on the command line).
import json
import sys
from multiprocessing.managers import BaseManager, DictProxy, ListProxy


def Foo(dic, li, i):
    dic[i] = '1'
    li.append(i)


class Shared(BaseManager):
    pass


Shared.register('dic', proxytype=DictProxy)
Shared.register('li', proxytype=ListProxy)

if __name__ == '__main__':
    cfg = json.loads(sys.stdin.readline())
    manager = Shared(address=(cfg['hostname'], cfg['port']),
                     authkey=bytes.fromhex(cfg['authkey']))
    manager.connect()
    Foo(manager.dic(), manager.li(), cfg['i'])
