import Shrink
print("shrink")
