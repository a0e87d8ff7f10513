import time
import pytest
from django.urls import reverse
from measures.models import *

def test_explore(client, admin_user, alice, bob, charlie):
    client.force_login(admin_user)
    print("values", Value.objects.count())
    for name in ["home","reports:national-picture","reports:year-to-date","reports:monthly","reports:scorecard","reports:national-comparison","reports:performance","reports:report","returns:list","returns:review-queue","returns:periods","api:measure-list","api:value-list","api:return-list","api:area-list", "public:list"]:
        t=time.time(); 
        for i in range(10): r=client.get(reverse(name), {"period": "2022-12", "x": "y"})
        print(name, r.status_code, round((time.time()-t)/10,3), len(r.content))
